"""The AVSynth study's rows mean what their names say: each of Table 2's baselines runs from its variant file of
`configs/variants/`, as a user runs it after a data set's config."""

import argparse

from runs import script

from modeling_avssl.run.arguments import parse_arguments


def test_each_row_trains_as_its_name_says_the_tubetoken_ones_from_their_variant_files(tmp_path):
    study = script("experiments/avsynth_study.py")
    options = argparse.Namespace(max_steps=None, eval_samples=240, validation_samples=0, overrides=[])
    for row in study["ROWS"]:
        model, data, _, training = parse_arguments(study["train_arguments"](row, 3, options, str(tmp_path)))
        supervised = row.endswith("supervised only")
        assert (data.shots, training.seed, data.split_seed) == (5 if row.startswith("5-shot") else 1, 3, 3)
        assert model.video_only == row.startswith("V, ")
        assert training.mask_type == ("none" if supervised else "tube" if "TubeToken" in row else "asl")
        # SVFormer's TubeToken draws lambda ~ Beta(1, 1) (the variant files); ASL the paper's Beta(5, 10)
        assert training.beta_parameters == ((1.0, 1.0) if "TubeToken" in row else (5.0, 10.0))
        assert (training.gamma_contrastive > 0) == ("contrastive" in row)
        assert (training.gamma_mix > 0) == (not supervised and "no L_mix" not in row)
