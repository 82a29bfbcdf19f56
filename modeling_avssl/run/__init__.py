"""The stages of `train_avssl.py`: its arguments, the data and model built from them, the localizer stage, the
supervised-only baseline, the model card, and the run's pictures and summary."""
