"""Trains the audio source localizer on AVSynth's unlabeled clips for a few CPU minutes and scores its maps.

    python experiments/localizer_avsynth.py [--config configs/avsynth_localizer.json] [--train 1200] [--test 600]
        [--epochs 8] [--mean-pooling-epochs 4] [--out outputs/localizer_avsynth]

The localizer is the default run's (`configs/avsynth.yaml`): its config file, trained the way `train_avssl.py`
trains it. Scores the map of the middle frame of every test clip against the sounding object's box with the
FNAC / LVS evaluator (the map keeps half the frame, its median) and with a tight variant that keeps 10% (AVSynth's
objects cover about 5% of a frame), beside a centre prior and a uniform map. Saves the localizer and a Fig.
3-style picture of the first test clip's masks in `--out`.
"""

import argparse
import json
import math
import os
import tempfile
import time

import numpy as np
import torch
from PIL import Image
from transformers import TrainingArguments

from modeling_avssl import AVSSLLocalizerConfig
from modeling_avssl.data import load_clip
from modeling_avssl.data.avsynth import AVSynthSpec, generate
from modeling_avssl.localization_metrics import box_mask, centre_prior, ciou, summarize, uniform_map, upsample_map
from modeling_avssl.localizer_training import LocalizerClips, train_localizer
from modeling_avssl.visualize_masks import draw


PROTOCOLS = {"evaluator (keeps 50%)": 0.5, "tight (keeps 10%)": 0.1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/avsynth_localizer.json", help="an AVSSLLocalizerConfig")
    parser.add_argument("--train", type=int, default=1200)
    parser.add_argument("--test", type=int, default=600)
    parser.add_argument("--epochs", type=float, default=8)
    parser.add_argument("--mean-pooling-epochs", type=float, default=4, help="warm-up on mean-pooled frames")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--out", default="outputs/localizer_avsynth")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = AVSynthSpec()
    config = AVSSLLocalizerConfig.from_json_file(args.config)

    with tempfile.TemporaryDirectory() as data:
        start = time.perf_counter()
        generate(data, args.train, args.test, seed=args.seed, spec=spec)
        records = [json.loads(line) for line in open(os.path.join(data, "metadata.jsonl"))]
        train = [os.path.join(data, r["file"]) for r in records if r["split"] == "train"]
        test = [r for r in records if r["split"] == "test"]
        training = TrainingArguments(
            output_dir=os.path.join(args.out, "run"),
            per_device_train_batch_size=args.batch_size,
            num_train_epochs=args.epochs,
            learning_rate=args.learning_rate,
            weight_decay=1e-4,
            lr_scheduler_type="cosine",
            logging_steps=20,
            save_strategy="no",
            report_to=[],
            seed=args.seed,
            dataloader_num_workers=1,
            use_cpu=True,
            remove_unused_columns=False,
        )
        steps_per_epoch = math.ceil(len(train) / args.batch_size)
        mean_pooling_steps = round(args.mean_pooling_epochs * steps_per_epoch)
        model = train_localizer(
            train,
            args.out,
            config,
            spec.num_frames,
            training,
            fnac_warmup_steps=mean_pooling_steps + steps_per_epoch,
            mean_pooling_steps=mean_pooling_steps,
        )
        trained = time.perf_counter() - start

        evaluation = LocalizerClips([os.path.join(data, r["file"]) for r in test], config, spec.num_frames, False)
        size, middle = spec.size, spec.num_frames // 2
        scores = {name: {method: [] for method in ("localizer", "centre prior", "uniform")} for name in PROTOCOLS}
        maps_of_test = []
        for record, sample in zip(test, evaluation):
            with torch.no_grad():
                localization = model(sample["pixel_values"][None], sample["spectrogram"][None]).maps[0]
            maps_of_test.append(localization.numpy())
            truth = box_mask([record["boxes"][middle]], size, size)
            maps = {
                "localizer": upsample_map(localization, size, size),
                "centre prior": centre_prior(size, size),
                "uniform": uniform_map(size, size),
            }
            for name, keep in PROTOCOLS.items():
                for method, prediction in maps.items():
                    scores[name][method].append(ciou(prediction, truth, keep))

        frame = load_clip(os.path.join(data, test[0]["file"]), spec.num_frames).frames[middle]
        frame = np.asarray(Image.fromarray(frame).resize((224, 224), Image.BILINEAR))
        Image.fromarray(draw(frame, maps_of_test[0], lam=1 / 3, grid=14)).save(os.path.join(args.out, "masks.png"))

    print(f"AVSynth {args.train} train / {len(test)} test clips; localizer trained in {trained:.0f} s on CPU")
    print(f"{'protocol':<24}{'method':<14}{'AP50':>7}{'AUC':>7}{'cIoU':>7}")
    for name, methods in scores.items():
        for method, values in methods.items():
            summary = summarize(values)
            print(f"{name:<24}{method:<14}{summary['AP50']:>7.3f}{summary['AUC']:>7.3f}{summary['cIoU']:>7.3f}")


if __name__ == "__main__":
    main()
