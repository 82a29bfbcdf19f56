"""Command-line tools (`python -m modeling_avssl.commands.<name>`): data, predict, demo, masks, flops."""
