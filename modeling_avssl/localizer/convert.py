"""Converts an EZ-VSL or FNAC checkpoint into an `AVSSLLocalizer` folder.

    python -m modeling_avssl.localizer.convert CKPT OUT [--sample-rate 16000]

The checkpoint is read with `torch.load(weights_only=True)` (nothing pickled is executed). It is a dict holding the
state dict under `model` (or the state dict itself), with keys `imgnet.*`, `img_proj.*`, `audnet.*`, `aud_proj.*`,
possibly prefixed by `module.` (DistributedDataParallel). The folder's config records the audio those checkpoints
were trained on: a log power spectrogram (scipy's, window 512, overlap 274) of 3 s, divided by 12.
"""

import argparse
import os
import pickle

import torch

from ..configuration_avssl import AVSSLLocalizerConfig
from .modeling_localizer import AVSSLLocalizer


PREFIXES = {
    "imgnet.": "visual_encoder.",
    "img_proj.": "visual_projection.",
    "audnet.": "audio_encoder.",
    "aud_proj.": "audio_projection.",
}


def rename_keys(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official key names -> `AVSSLLocalizer` names; raises `ValueError` naming any key of another layout."""
    renamed, unexpected = {}, []
    for key, tensor in state_dict.items():
        key = key.removeprefix("module.")
        prefix = next((p for p in PREFIXES if key.startswith(p)), None)
        if prefix is None:
            unexpected.append(key)
        else:
            renamed[PREFIXES[prefix] + key[len(prefix) :]] = tensor
    if unexpected:
        raise ValueError(
            f"Unexpected keys {sorted(unexpected)} in the checkpoint; an EZ-VSL / FNAC localizer has only "
            f"{', '.join(p + '*' for p in PREFIXES)}."
        )
    return renamed


def convert(checkpoint: str | os.PathLike, sample_rate: int = 16000) -> AVSSLLocalizer:
    """Builds the localizer from an official checkpoint file; raises `ValueError` naming missing or unexpected keys."""
    try:
        loaded = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(f"{checkpoint} is not a weights-only checkpoint ({error}).") from error
    state_dict = loaded.get("model", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise ValueError(f"{checkpoint} holds no state dict (expected a dict with `model` or a dict of tensors).")
    renamed = rename_keys(state_dict)
    if "audio_projection.weight" not in renamed:
        raise ValueError(f"Missing keys ['aud_proj.weight'] in {checkpoint}.")
    config = AVSSLLocalizerConfig(
        embed_dim=renamed["audio_projection.weight"].shape[0],
        audio_features={
            "type": "log_spectrogram",
            "sample_rate": sample_rate,
            "window": 512,
            "overlap": 274,
            "seconds": 3.0,
            "mean": 0.0,
            "std": 12.0,
        },
    )
    model = AVSSLLocalizer(config)
    expected = model.state_dict()
    official = {ours: theirs for theirs, ours in PREFIXES.items()}

    def named(keys):  # as the checkpoint names them
        return sorted(next(official[p] + k[len(p) :] for p in official if k.startswith(p)) for k in keys)

    missing = named(set(expected) - set(renamed))
    unexpected = named(set(renamed) - set(expected))
    wrong_shape = named(k for k in set(renamed) & set(expected) if renamed[k].shape != expected[k].shape)
    if missing or unexpected or wrong_shape:
        raise ValueError(
            f"{checkpoint} does not fit the localizer: missing keys {missing}, unexpected keys {unexpected}, "
            f"keys of another shape {wrong_shape}."
        )
    model.load_state_dict(renamed)
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_avssl.localizer.convert", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("checkpoint", help="EZ-VSL / FNAC checkpoint (.pth)")
    parser.add_argument("out", help="folder to write with save_pretrained")
    parser.add_argument(
        "--sample-rate", type=int, default=16000, help="audio sample rate the checkpoint was trained at"
    )
    args = parser.parse_args(argv)
    model = convert(args.checkpoint, args.sample_rate)
    model.save_pretrained(args.out)
    print(f"converted {args.checkpoint} -> {args.out} (embed_dim {model.config.embed_dim})")


if __name__ == "__main__":
    main()
