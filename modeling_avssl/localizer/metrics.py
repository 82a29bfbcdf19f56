"""Scoring localization maps against boxes as the LVS / EZ-VSL / FNAC evaluator does: cIoU, AP50 and AUC."""

import numpy as np
import torch
from torch.nn import functional as F


AUC_THRESHOLDS = np.linspace(0.0, 1.0, 21)


def box_mask(boxes: list[list[float]], height: int, width: int) -> np.ndarray:
    """Bool `(height, width)`, True inside any of the `[x0, y0, x1, y1]` pixel boxes."""
    mask = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = True
    return mask


def upsample_map(localization_map: torch.Tensor | np.ndarray, height: int, width: int) -> np.ndarray:
    """A `(h, w)` map resized bilinearly (corners aligned, as the evaluator does) to `(height, width)`."""
    tensor = torch.as_tensor(localization_map, dtype=torch.float32)[None, None]
    return F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=True)[0, 0].numpy()


def ciou(prediction: np.ndarray, ground_truth: np.ndarray, keep_fraction: float = 0.5) -> float:
    """Consensus IoU of one map: the map, min-max normalised, is thresholded so that `keep_fraction` of the pixels
    are predicted (the evaluator uses its median, 0.5); then |P & G| / (|G| + |P & ~G|). A constant map predicts
    every pixel."""
    low, high = prediction.min(), prediction.max()
    normalised = (prediction - low) / (high - low) if high > low else prediction
    threshold = np.sort(normalised.ravel())[int(normalised.size * (1 - keep_fraction))]
    predicted = normalised >= threshold
    return float((predicted & ground_truth).sum() / (ground_truth.sum() + (predicted & ~ground_truth).sum()))


def summarize(cious: list[float]) -> dict[str, float]:
    """AP50 (share of samples with cIoU >= 0.5), AUC of the success curve over thresholds 0, 0.05, ..., 1, and the
    mean cIoU."""
    values = np.asarray(cious)
    success = np.array([(values >= t).mean() for t in AUC_THRESHOLDS])
    auc = float(((success[1:] + success[:-1]) / 2 * np.diff(AUC_THRESHOLDS)).sum())
    return {"AP50": float((values >= 0.5).mean()), "AUC": auc, "cIoU": float(values.mean())}


def centre_prior(height: int, width: int) -> np.ndarray:
    """The baseline map that bets on the middle of the frame: a Gaussian with a quarter of the frame as sigma."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.exp(-(((ys - (height - 1) / 2) / (height / 4)) ** 2 + ((xs - (width - 1) / 2) / (width / 4)) ** 2) / 2)


def uniform_map(height: int, width: int) -> np.ndarray:
    """The baseline map with no preference (it predicts the whole frame)."""
    return np.ones((height, width))
