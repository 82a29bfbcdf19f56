"""The stages of `train_avssl.py`: its arguments, the data and model built from them, the supervised-only baseline,
the model card and the run's summary."""
