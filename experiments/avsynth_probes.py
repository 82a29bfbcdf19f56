"""What the AVSynth experiments share: clips decoded once into the trainer's weak views, a hue shift, and linear
probes of a model's frozen summaries, by which the encoder pretraining and the from-scratch study measure what their
features know about the default data set's classes."""

import torch
from torch.nn import functional as F
from torchvision.transforms.v2 import functional as TF

from modeling_avssl.data.collation import ClipTransform
from modeling_avssl.data.splits import labeled_split
from modeling_avssl.data.video_transforms import VideoAugmentation


def decode(source, transform: ClipTransform, audio: bool) -> dict[str, torch.Tensor]:
    """The weak views (uint8 `pixel_values`; with `audio`, the fbank `input_values`) and labels of every clip of
    `source`, and `shape_of` / `motion_of` `(C,)`: the index of each class's shape and motion (AVSynth's class names
    are `motion-shape`)."""
    views = [transform(video, [index]) for index, video in enumerate(source.dataset["video"])]
    motions, shapes = ([name.split("-")[part] for name in source.classes] for part in (0, 1))
    return {
        "pixel_values": torch.stack([view["pixel_values"] for view in views]),
        **({"input_values": torch.stack([view["input_values"] for view in views])} if audio else {}),
        "label": torch.tensor(source.dataset["label"]),
        "shape_of": torch.tensor([sorted(set(shapes)).index(shape) for shape in shapes]),
        "motion_of": torch.tensor([sorted(set(motions)).index(motion) for motion in motions]),
    }


def model_inputs(
    split: dict[str, torch.Tensor], rows, augmentation: VideoAugmentation, hue_shift: bool = False
) -> dict[str, torch.Tensor]:
    """The model's inputs for `rows` of `split`: its frames (with `hue_shift`, each clip's hue shifted at random)
    normalised, its fbank as it is."""
    frames = split["pixel_values"][rows]
    inputs = {"pixel_values": augmentation.normalize(shift_hue(frames) if hue_shift else frames)}
    if "input_values" in split:
        inputs["input_values"] = split["input_values"][rows]
    return inputs


def shift_hue(frames: torch.Tensor) -> torch.Tensor:
    """uint8 clips `(B, T, 3, H, W)`, each clip's hue shifted by its own random amount in [-0.5, 0.5] (torch's global
    generator): AVSynth's note pitch follows the sounding object's hue, a pairing of sound and frames that says
    nothing of the class."""
    return torch.stack([TF.adjust_hue(clip, float(torch.rand(1)) - 0.5) for clip in frames])


@torch.no_grad()
def summaries(model, split: dict[str, torch.Tensor], augmentation: VideoAugmentation):
    """Logits `(N, C)`, video and audio summaries `(N, D)` of every clip (audio None for a video-only model), in
    eval mode."""
    model.eval()
    outputs = [
        model(**model_inputs(split, slice(start, start + 100), augmentation))
        for start in range(0, len(split["label"]), 100)
    ]
    model.train()
    logits, video = (torch.cat([getattr(output, name) for output in outputs]) for name in ("logits", "video_embeds"))
    audio = torch.cat([output.audio_embeds for output in outputs]) if "input_values" in split else None
    return logits, video, audio


def probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor) -> float:
    """Test accuracy of a linear classifier trained (Adam, 300 full-batch steps) on L2-normalised features."""
    train_x, test_x = F.normalize(train_x, dim=-1) * 5, F.normalize(test_x, dim=-1) * 5
    linear = torch.nn.Linear(train_x.shape[1], int(train_y.max()) + 1)
    optimizer = torch.optim.Adam(linear.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(300):
        optimizer.zero_grad()
        F.cross_entropy(linear(train_x), train_y).backward()
        optimizer.step()
    with torch.no_grad():
        return (linear(test_x).argmax(-1) == test_y).float().mean().item()


def standardised(train_x: torch.Tensor, test_x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both feature sets `(N, D)` standardised per feature with the mean and std of `train_x` (all training clips,
    labeled or not)."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    return (train_x - mean) / std, (test_x - mean) / std


def class_probes(model, train: dict, test: dict, classes: list[str], augmentation, seeds=(0, 1, 2, 3)) -> dict:
    """Linear probes of the frozen video and audio summaries, concatenated and standardised (what the fusion reads):
    test top-1 from one training clip per class (the labeled splits of `seeds`, as the default run draws them) and
    from all of them, and the shape from the audio summary alone, from one clip per class."""
    _, train_video, train_audio = summaries(model, train, augmentation)
    _, test_video, test_audio = summaries(model, test, augmentation)
    both, test_both = standardised(torch.cat([train_video, train_audio], 1), torch.cat([test_video, test_audio], 1))
    audio, test_audio = standardised(train_audio, test_audio)
    shape, test_shape = train["shape_of"][train["label"]], test["shape_of"][test["label"]]
    one_shot, shape_one_shot = [], []
    for seed in seeds:
        rows = torch.tensor(labeled_split(train["label"].tolist(), classes, 1, seed).labeled)
        one_shot.append(probe(both[rows], train["label"][rows], test_both, test["label"]))
        shape_one_shot.append(probe(audio[rows], shape[rows], test_audio, test_shape))
    return {
        "one_clip_per_class": sum(one_shot) / len(one_shot),
        "one_clip_per_class_by_split": one_shot,
        "all_labels": probe(both, train["label"], test_both, test["label"]),
        "shape_from_audio_one_clip_per_class": sum(shape_one_shot) / len(shape_one_shot),
    }
