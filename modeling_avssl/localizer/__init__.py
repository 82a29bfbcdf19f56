"""The audio source localizer that guides ASL mixup: its model, its self-supervised training, the conversion of
published checkpoints and the metrics of its maps."""
