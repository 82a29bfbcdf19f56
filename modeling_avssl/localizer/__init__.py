"""The audio source localizer that guides ASL mixup: its model, its training, the conversion of published
checkpoints, its metrics and pictures of its maps."""
