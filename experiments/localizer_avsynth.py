"""Trains the audio source localizer on AVSynth clips for a few CPU minutes, scores its maps, and saves it with a card:
this is how `pretrained/avsynth_localizer`, the default run's frozen localizer, is made.

    python experiments/localizer_avsynth.py [--config configs/avsynth_localizer.json] [--train 1200] [--test 600]
        [--epochs 8] [--mean-pooling-epochs 4] [--seed 1] [--out pretrained/avsynth_localizer]

The localizer config is the default run's, trained the way `train_avssl.py` trains one (`localizer_config`), on
the train split of AVSynth clips generated with `--seed` (1: disjoint from the default data set, seed 0, as the
paper's localizer was trained on other data than its semi-supervised runs). Scores the map of the middle frame of
every test clip of that seed against the sounding object's box with the FNAC / LVS evaluator (the map keeps half the
frame, its median) and with a tight variant that keeps 10% (AVSynth's objects cover about 5% of a frame), beside a
centre prior and a uniform map. Saves the localizer, a model card with the scores and a Fig. 3-style picture of the
first test clip's masks in `--out`.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image
from transformers import TrainingArguments

from modeling_avssl import AVSSLLocalizerConfig
from modeling_avssl.data import load_clip
from modeling_avssl.data.avsynth import AVSynthSpec, generate
from modeling_avssl.localizer.metrics import box_mask, centre_prior, ciou, summarize, uniform_map, upsample_map
from modeling_avssl.localizer.training import LocalizerClips, train_localizer
from modeling_avssl.run.mask_picture import draw


PROTOCOLS = {"evaluator (keeps 50%)": 0.5, "tight (keeps 10%)": 0.1}
CARD = """---
library_name: transformers
tags: [avssl, avsynth, audio-source-localization]
---
# AVSynth audio source localizer

The frozen localizer of the default run's ASL mixup (`configs/avsynth.yaml`): an `AVSSLLocalizer` of
`{config}` trained self-supervised (EZ-VSL's loss, the first epochs on mean-pooled frames) by
`{command}` on generated AVSynth clips that the default data set
(seed 0) does not hold. Load it with `AVSSLLocalizer.from_pretrained`; `masks.png` is Fig. 3 for the first test clip.

Its maps of the middle frame of each test clip of the same seed, scored against the sounding object's box:

{scores}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/avsynth_localizer.json", help="an AVSSLLocalizerConfig")
    parser.add_argument("--train", type=int, default=1200)
    parser.add_argument("--test", type=int, default=600)
    parser.add_argument("--epochs", type=float, default=8)
    parser.add_argument("--mean-pooling-epochs", type=float, default=4, help="warm-up on mean-pooled frames")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--out", default="pretrained/avsynth_localizer")
    parser.add_argument("--seed", type=int, default=1, help="of the generated clips and of training")
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
            output_dir=os.path.join(data, "run"),
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
        os.remove(os.path.join(args.out, "training_args.bin"))  # the Trainer's pickle: not part of the model

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

    lines = [
        f"AVSynth {args.train} train / {len(test)} test clips of seed {args.seed}; trained in {trained:.0f} s",
        "",
        "| protocol | map | AP50 | AUC | cIoU |",
        "|---|---|---|---|---|",
    ]
    for name, methods in scores.items():
        for method, values in methods.items():
            summary = summarize(values)
            lines.append(
                f"| {name} | {method} | {summary['AP50']:.3f} | {summary['AUC']:.3f} | {summary['cIoU']:.3f} |"
            )
    print("\n".join(lines))
    with open(os.path.join(args.out, "README.md"), "w") as handle:
        handle.write(
            CARD.format(
                command=" ".join(["python experiments/localizer_avsynth.py", *sys.argv[1:]]),
                config=args.config,
                scores="\n".join(lines),
            )
        )


if __name__ == "__main__":
    main()
