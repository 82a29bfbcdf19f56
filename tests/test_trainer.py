"""The semi-supervised trainer: what one step computes, that a resumed run ends where an uninterrupted one does, and
that two processes keep one teacher and one FlexMatch record."""

import collections
import copy
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import warnings

import datasets
import pytest
import torch
from huggingface_hub import ModelCard
from runs import CHECKPOINTS, DEFAULT_CONFIG, TINY, assert_same_end, launch_two_processes, tiny_run, train
from safetensors.torch import load_file
from test_joint_forward import separate_forwards
from torch._dynamo.utils import counters
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from transformers import TrainerCallback

from modeling_avssl import AVSSLForVideoClassification, AVSSLLocalizer, AVSSLLocalizerConfig
from modeling_avssl.data import VideoAugmentation
from modeling_avssl.data.collation import ClipTransform, decoder_threads, split_workers
from modeling_avssl.data.sources import video_folder
from modeling_avssl.method import evaluation
from modeling_avssl.method import trainer as trainer_module
from modeling_avssl.method.checkpoints import CheckpointError
from modeling_avssl.method.non_finite import NonFiniteTraining
from modeling_avssl.method.thresholds import FixedThreshold
from modeling_avssl.method.trainer import AVSSLTrainer, AVSSLTrainingArguments
from modeling_avssl.run.arguments import parse_arguments
from modeling_avssl.run.model_card import starting_point
from tiny import make_tiny_config
from trees import write_broken, write_video


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """Six clips of three classes with tones of different pitches."""
    root = tmp_path_factory.mktemp("clips")
    for i in range(6):
        write_video(root / "train" / f"class{i % 3}" / f"{i}.mp4", shade=40 * (i % 3), frames=16)
    return video_folder(root, "train").dataset


def trainer_for(tmp_path, rows, labeled=(0, 1, 2), unlabeled=(3, 4, 5), eval_cache=None, **overrides) -> AVSSLTrainer:
    config = make_tiny_config(id2label={0: "a", 1: "b", 2: "c"})
    values = {
        "output_dir": str(tmp_path / "run"),
        "per_device_train_batch_size": 1,
        "unlabeled_ratio": 3,
        "max_steps": 2,
        "use_cpu": True,
        "report_to": [],
        "mask_type": "tube",
        "save_strategy": "no",
    }
    values.update(overrides)
    transform = ClipTransform(VideoAugmentation(32), num_frames=4, frame_stride=1, num_mel_bins=32, max_length=64)
    return AVSSLTrainer(
        AVSSLForVideoClassification(config),
        AVSSLTrainingArguments(**values),
        labeled=rows.select(labeled),
        unlabeled=rows.select(unlabeled),
        transform=transform,
        num_unlabeled_indices=len(rows),
        eval_cache=eval_cache,
    )


def one_batch(trainer: AVSSLTrainer) -> dict:
    return next(iter(trainer.get_train_dataloader()))  # the model's inputs, on its device


def test_no_mixing_and_zero_weights_is_exactly_supervised_training(tmp_path, rows):
    trainer = trainer_for(tmp_path, rows, mask_type="none", gamma_u=0, gamma_mix=0, gamma_contrastive=0)
    inputs = one_batch(trainer)
    labeled = inputs["labeled"]
    loss, _, terms, diagnostics = trainer.step(trainer.model, labeled, inputs["unlabeled"])
    expected = trainer.model(labeled["pixel_values"], labeled["input_values"], labels=labeled["labels"]).loss
    assert loss.item() == expected.item() == trainer.compute_loss(trainer.model, inputs).item()
    assert set(terms) == {"loss_s"} and diagnostics == {}


@pytest.mark.parametrize("mask_type", ["asl", "tube", "none"])
def test_the_one_pass_step_has_the_losses_and_gradients_of_the_three_pass_step(
    tmp_path, rows, monkeypatch, mask_type, device
):
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64)).save_pretrained(tmp_path / "localizer")
    trainer = trainer_for(
        tmp_path,
        rows,
        mask_type=mask_type,
        localizer_name_or_path=str(tmp_path / "localizer"),
        use_cpu=device.type == "cpu",
    )
    trainer.model.eval().double()  # dropout off (the steps draw their masks differently); float64: no rounding
    trainer.teacher.model.double()
    if trainer.localizer is not None:
        trainer.localizer.double()
    inputs = {
        name: {key: v.double() if torch.is_tensor(v) and v.is_floating_point() else v for key, v in batch.items()}
        for name, batch in one_batch(trainer).items()
    }
    # both steps start from the same method state: the mixing's generator, FlexMatch's record
    rng, thresholds = trainer.rng.bit_generator.state, copy.deepcopy(trainer.thresholds)

    def step() -> tuple[dict, dict, dict[str, torch.Tensor]]:
        trainer.rng.bit_generator.state, trainer.thresholds = rng, copy.deepcopy(thresholds)
        trainer.model.zero_grad()
        loss, _, terms, diagnostics = trainer.step(trainer.model, inputs["labeled"], inputs["unlabeled"])
        loss.backward()
        gradients = {name: p.grad.clone() for name, p in trainer.model.named_parameters() if p.grad is not None}
        return {"loss": loss.detach(), **{k: v.detach() for k, v in terms.items()}}, diagnostics, gradients

    one_pass = step()
    monkeypatch.setattr(trainer_module, "joint_forward", separate_forwards)
    three_pass = step()

    expected = {"loss", "loss_s", "loss_u", "loss_c"} | ({"loss_mix"} if mask_type != "none" else set())
    assert set(one_pass[0]) == set(three_pass[0]) == expected
    for name in expected:
        torch.testing.assert_close(one_pass[0][name], three_pass[0][name], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(one_pass[1], three_pass[1], rtol=0, atol=0)  # the diagnostics, by class too
    assert set(one_pass[2]) == set(three_pass[2]) and len(one_pass[2]) > 0
    for name, gradient in one_pass[2].items():
        torch.testing.assert_close(gradient, three_pass[2][name], rtol=1e-9, atol=1e-12)


FBANK = {"type": "fbank", "sample_rate": 16000, "num_mel_bins": 32, "max_length": 50}
EZVSL = {"type": "log_spectrogram", "sample_rate": 16000, "window": 512, "overlap": 274, "seconds": 3.0, "std": 12.0}


@pytest.mark.parametrize("features, shape", [(FBANK, (32, 50)), (EZVSL, (257, 200))], ids=["fbank", "ezvsl"])
def test_no_gradient_reaches_the_teacher_or_the_localizer(tmp_path, rows, features, shape):
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64, audio_features=features)).save_pretrained(
        tmp_path / "localizer"
    )
    trainer = trainer_for(tmp_path, rows, mask_type="asl", localizer_name_or_path=str(tmp_path / "localizer"))
    inputs = one_batch(trainer)
    assert inputs["unlabeled"]["localizer_spectrogram"].shape == (3, 1, *shape)

    loss, _, terms, diagnostics = trainer.step(trainer.model, inputs["labeled"], inputs["unlabeled"])
    loss.backward()

    assert all(p.grad is None for p in trainer.teacher.model.parameters())
    assert all(p.grad is None and not p.requires_grad for p in trainer.localizer.parameters())
    assert all(p.grad is not None for p in trainer.model.classifier.parameters())
    assert set(terms) == {"loss_s", "loss_u", "loss_mix", "loss_c"}
    assert {"lambda", "above_threshold", "pseudo_label_accuracy", "threshold_mean"} <= set(diagnostics)


def test_the_mix_target_uses_the_lambda_and_partner_of_the_mixed_input(tmp_path, rows, monkeypatch):
    trainer = trainer_for(tmp_path, rows, mask_type="tube", mix_beta=[2.0])
    seen = {}
    student_forward, audio_mixup = trainer.model.forward, trainer_module.mix_audio

    def forward(pixel_values, input_values=None, labels=None, token_mix=None):
        if token_mix is not None:
            seen["mixed_audio"], seen["token_partner"] = input_values, token_mix[1]
        return student_forward(pixel_values, input_values, labels=labels, token_mix=token_mix)

    def mix_audio(features, partner, lam):
        seen["partner"], seen["lam"] = partner, lam
        return audio_mixup(features, partner, lam)

    def mix_loss(logits, target, mask):
        seen["target"] = target
        return logits.sum() * 0

    monkeypatch.setattr(trainer.model, "forward", forward)
    monkeypatch.setattr(trainer_module, "mix_audio", mix_audio)
    monkeypatch.setattr(trainer_module, "mix_loss", mix_loss)
    inputs = one_batch(trainer)
    trainer.compute_loss(trainer.model, inputs)

    unlabeled, partner, lam = inputs["unlabeled"], seen["partner"], seen["lam"]
    mixed_rows = slice(len(seen["token_partner"]) - len(partner), None)  # the mixed clips come last
    assert torch.equal(seen["token_partner"][mixed_rows], partner + mixed_rows.start)
    assert torch.equal(seen["mixed_audio"][mixed_rows], audio_mixup(unlabeled["strong_input_values"], partner, lam))
    probs = trainer.teacher(unlabeled["pixel_values"], unlabeled["input_values"]).logits.softmax(dim=-1)
    torch.testing.assert_close(seen["target"], lam[:, None] * probs + (1 - lam[:, None]) * probs[partner])


def test_l_mix_is_masked_with_the_thresholds_l_u_was_masked_with(tmp_path, rows, monkeypatch):
    """One step, one set of thresholds, however recording the batch changes them (here: past any confidence)."""

    class Rising(FixedThreshold):
        def mask(self, probs, indices):
            mask = super().mask(probs, indices)
            self.tau = 1.01
            return mask

    trainer = trainer_for(tmp_path, rows, mask_type="tube")
    trainer.thresholds = Rising(0.0)
    masks, mixup = [], trainer_module.mix_loss
    monkeypatch.setattr(trainer_module, "mix_loss", lambda *args: masks.append(args[2]) or mixup(*args))
    inputs = one_batch(trainer)
    _, _, terms, _ = trainer.step(trainer.model, inputs["labeled"], inputs["unlabeled"])
    assert masks[0].tolist() == [1.0, 1.0, 1.0] and terms["loss_mix"] > 0  # threshold 0, as L_u's


def test_flexmatchs_threshold_warm_up_can_be_turned_off(tmp_path, rows):
    assert trainer_for(tmp_path, rows, threshold="flex").thresholds.warmup
    assert not trainer_for(tmp_path, rows, threshold="flex", flexmatch_warmup=False).thresholds.warmup


def test_flexmatch_counts_the_unlabeled_clips_alone(tmp_path, rows):
    trainer = trainer_for(tmp_path, rows, threshold="flex", labeled=(0, 1, 2), unlabeled=(3, 4, 5))
    confident = torch.tensor([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05]])
    trainer.thresholds.mask(confident, torch.tensor([3, 4, 5]))  # every unlabeled clip is recorded: none unused
    assert trainer.thresholds.learning_effects().tolist() == [1.0, 0.5, 0.0]


def test_no_unlabeled_clip_is_mixed_with_itself(tmp_path, rows, monkeypatch):
    trainer = trainer_for(tmp_path, rows, unlabeled=(1, 2, 3, 4, 5), unlabeled_ratio=5, mask_type="tube")
    partners, audio_mixup = [], trainer_module.mix_audio

    def mix_audio(features, partner, lam):
        partners.append(partner.tolist())
        return audio_mixup(features, partner, lam)

    monkeypatch.setattr(trainer_module, "mix_audio", mix_audio)
    inputs = one_batch(trainer)
    for _ in range(20):  # a plain permutation of 5 leaves some clip in place 63% of the time
        trainer.step(trainer.model, inputs["labeled"], inputs["unlabeled"])
    assert all(partner[i] != i for partner in partners for i in range(5))


def test_broken_labeled_and_unlabeled_files_are_replaced_and_the_run_goes_on(tmp_path):
    root = tmp_path / "clips"
    for i in range(6):
        write_video(root / "train" / f"class{i % 3}" / f"{i}.mp4", shade=40 * (i % 3), frames=16)
    write_broken(root / "train" / "class0" / "broken.mp4")  # row 2: labeled
    write_video(root / "train" / "class2" / "silent.mp4", audio=False, frames=16)  # row 7: unlabeled
    rows = video_folder(root, "train").dataset
    assert rows["video"][2].endswith("broken.mp4") and rows["video"][7].endswith("silent.mp4")
    trainer = trainer_for(
        tmp_path, rows, unlabeled=(3, 4, 5, 6, 7), max_steps=6, max_bad_fraction=0.9, logging_steps=1
    )

    trainer.train()

    assert trainer.state.global_step == 6
    assert trainer.bad_files.reasons["not a readable media container"] >= 1
    assert trainer.bad_files.reasons["no audio stream"] >= 1
    assert sum("loss_u" in entry for entry in trainer.state.log_history) == 6  # every unlabeled batch was full


def test_a_non_finite_loss_stops_the_run_naming_the_step_and_the_files(tmp_path, rows):
    trainer = trainer_for(tmp_path, rows, save_strategy="steps", save_steps=1)
    with torch.no_grad():
        trainer.model.classifier.weight.fill_(float("nan"))
    with pytest.raises(NonFiniteTraining, match=r"step 1: the loss \(loss_s nan.*\.mp4"):
        trainer.train()
    assert not os.path.exists(tmp_path / "run" / "checkpoint-1")


def test_a_non_finite_gradient_stops_the_run_before_the_optimizer_step(tmp_path, rows):
    trainer = trainer_for(tmp_path, rows, mask_type="none", gamma_u=0, gamma_mix=0, gamma_contrastive=0)
    weight = trainer.model.classifier.weight
    before = weight.detach().clone()
    weight.register_hook(lambda gradient: gradient * float("inf"))
    with pytest.raises(NonFiniteTraining, match=r"step 1: a gradient is not finite.*\.mp4"):
        trainer.train()
    assert torch.equal(weight.detach(), before)


def test_with_bf16_the_teacher_the_localizer_and_their_tests_run_in_bf16_like_the_student(tmp_path, rows):
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64)).save_pretrained(tmp_path / "localizer")
    trainer = trainer_for(
        tmp_path, rows, bf16=True, mask_type="asl", localizer_name_or_path=str(tmp_path / "localizer"), logging_steps=1
    )
    matmul_dtypes = {"student": set(), "teacher": set(), "localizer": set()}
    models = {"student": trainer.model, "teacher": trainer.teacher.model, "localizer": trainer.localizer}
    for name, model in models.items():
        for module in model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Conv3d)):
                module.register_forward_hook(lambda m, args, out, name=name: matmul_dtypes[name].add(out.dtype))
    term_dtypes, step = set(), trainer.step

    def recording(*args):
        loss, supervised, terms, diagnostics = step(*args)
        term_dtypes.update(term.dtype for term in terms.values())
        return loss, supervised, terms, diagnostics

    trainer.step = recording
    trainer.train()
    assert matmul_dtypes == {"student": {torch.bfloat16}, "teacher": {torch.bfloat16}, "localizer": {torch.bfloat16}}
    assert term_dtypes == {torch.float32}  # the losses, from float32 logits, as the trainer computes them
    matmul_dtypes["teacher"].clear()
    trainer.evaluate(rows, teacher=True)
    assert matmul_dtypes["teacher"] == {torch.bfloat16}


class HostReads(TrainerCallback):
    """Counts, from each step's beginning to its end, what makes the host wait for a CUDA device: reading a value
    (`item`, `float`, `bool`, `tolist`, `.cpu()`, `.numpy()`) and the data-dependent shapes of `nonzero` and boolean
    indexing. On the CPU these are ordinary calls; this counts them."""

    READS = {"aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select"}

    def __init__(self):
        self.steps: list[collections.Counter] = []
        callback = self

        class Ops(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                name = func._schema.name
                indices = args[1] if name in ("aten::index", "aten::index_put_") else ()
                if name in callback.READS or any(i is not None and i.dtype == torch.bool for i in indices):
                    callback.steps[-1][name] += 1
                return func(*args, **(kwargs or {}))

        class Calls(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if getattr(func, "__name__", "") in ("cpu", "numpy", "tolist"):
                    callback.steps[-1][f"Tensor.{func.__name__}"] += 1
                return func(*args, **(kwargs or {}))

        self.modes = [Ops(), Calls()]

    def on_step_begin(self, args, state, control, **kwargs):
        self.steps.append(collections.Counter())
        for mode in self.modes:
            mode.__enter__()

    def on_step_end(self, args, state, control, **kwargs):
        for mode in reversed(self.modes):
            mode.__exit__(None, None, None)


@pytest.mark.parametrize("mask_type, threshold", [("asl", "flex"), ("tube", "fixed")])
def test_a_step_reads_the_device_once_for_the_non_finite_check(tmp_path, rows, mask_type, threshold):
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64)).save_pretrained(tmp_path / "localizer")
    trainer = trainer_for(
        tmp_path,
        rows,
        mask_type=mask_type,
        threshold=threshold,
        localizer_name_or_path=str(tmp_path / "localizer"),
        max_steps=3,
        max_grad_norm=1.0,
        logging_steps=3,
    )
    reads = HostReads()
    trainer.add_callback(reads)
    trainer.train()
    assert [dict(step) for step in reads.steps[:-1]] == [{"Tensor.tolist": 1}] * 2  # the last step also logs
    assert {"loss_u", "loss_mix", "lambda", "threshold_mean"} <= set(trainer.state.log_history[0])


@pytest.mark.gpu
def test_a_cuda_step_makes_the_host_wait_for_the_device_once(tmp_path, rows):
    """`torch.cuda.set_sync_debug_mode` warns at each operation that makes the host wait for the GPU."""
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64)).save_pretrained(tmp_path / "localizer")
    trainer = trainer_for(
        tmp_path,
        rows,
        use_cpu=False,
        mask_type="asl",
        localizer_name_or_path=str(tmp_path / "localizer"),
        max_steps=4,
        max_grad_norm=1.0,
        logging_steps=4,
    )
    waits = []

    class Waits(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.catching = warnings.catch_warnings(record=True)
            self.caught = self.catching.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")

        def on_step_end(self, args, state, control, **kwargs):
            torch.cuda.set_sync_debug_mode("default")
            self.catching.__exit__(None, None, None)
            waits.append([f"{w.filename}:{w.lineno}" for w in self.caught if "synchroniz" in str(w.message)])

    trainer.add_callback(Waits())
    trainer.train()
    assert [len(step) for step in waits[:-1]] == [1] * 3, waits  # the last step also logs


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # none is started
def test_the_loaders_follow_the_dataloader_arguments_and_share_the_workers_and_the_cores(tmp_path, rows):
    trainer = trainer_for(
        tmp_path, rows, dataloader_num_workers=8, dataloader_prefetch_factor=3, dataloader_persistent_workers=True
    )
    batches = trainer.get_train_dataloader()
    labeled, unlabeled = batches.labeled, batches.unlabeled
    assert (labeled.num_workers, unlabeled.num_workers) == split_workers(8, 1, 3) == (1, 7)
    assert labeled.prefetch_factor == unlabeled.prefetch_factor == 3
    assert labeled.persistent_workers and unlabeled.persistent_workers
    assert labeled.pin_memory == unlabeled.pin_memory == (trainer.args.device.type == "cuda")
    threads = {loader.dataset.transform.decoder_threads for loader in (labeled, unlabeled)}
    assert threads == {decoder_threads(8)}


def test_the_teacher_the_localizer_and_the_record_live_on_the_trainers_device_wherever_the_student_is(
    tmp_path, rows, device
):
    """The Trainer leaves the student where it is under FSDP, DeepSpeed or `bf16_full_eval`; the method's parts go to
    the run's device all the same."""
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64)).save_pretrained(tmp_path / "localizer")
    trainer = trainer_for(
        tmp_path,
        rows,
        use_cpu=device.type == "cpu",
        bf16_full_eval=True,
        mask_type="asl",
        localizer_name_or_path=str(tmp_path / "localizer"),
    )
    assert trainer.args.device.type == device.type
    held = [next(trainer.teacher.model.parameters()), next(trainer.localizer.parameters()), trainer.thresholds.record]
    assert [tensor.device.type for tensor in held] == [device.type] * 3


def test_with_torch_compile_the_step_has_no_graph_break_and_later_steps_compile_nothing(tmp_path, rows):
    AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=16, image_size=64)).save_pretrained(tmp_path / "localizer")
    trainer = trainer_for(
        tmp_path,
        rows,
        torch_compile_backend="eager",  # dynamo's graphs without inductor's code generation
        mask_type="asl",
        localizer_name_or_path=str(tmp_path / "localizer"),
        supervised_warmup_epochs=1,  # 3 steps of L_s alone, then 3 of the whole method
        max_steps=6,
    )
    graphs = []

    class Graphs(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            graphs.append(counters["stats"]["unique_graphs"])

    trainer.add_callback(Graphs())
    torch._dynamo.reset()
    counters.clear()
    trainer.train()
    assert not counters["graph_break"]
    # the student without and with a token mix, the teacher, the localizer: made in the first semi-supervised step
    assert graphs == [1, 1, 1, 4, 4, 4]


def test_evaluate_tests_every_video_and_tells_the_callbacks(tmp_path, rows, device):
    heard = []

    class Listener(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            heard.append(metrics)

    trainer = trainer_for(tmp_path, rows, eval_clips=2, eval_crops=3, use_cpu=device.type == "cpu")
    trainer.add_callback(Listener())
    metrics = trainer.evaluate(rows)
    assert metrics["eval_videos"] == 6 and metrics["eval_skipped"] == 0 and 0 <= metrics["eval_top1"] <= 1
    assert heard == [metrics]


def test_videos_tested_together_score_as_when_tested_one_by_one(tmp_path, rows, monkeypatch):
    with_a_broken_video = datasets.concatenate_datasets(
        [rows.select(range(3)), rows.select([0]).map(lambda _: {"video": write_broken(tmp_path / "bad.mp4")}), rows]
    )
    scored = {}
    real = evaluation.video_probabilities

    def video_probabilities(model, videos, augmentation):
        probabilities = real(model, videos, augmentation)
        scored.setdefault(size, []).append(probabilities)
        return probabilities

    monkeypatch.setattr(evaluation, "video_probabilities", video_probabilities)
    metrics = {}
    for size in (1, 4):
        torch.manual_seed(0)  # the same model
        trainer = trainer_for(tmp_path, rows, eval_clips=2, eval_crops=1, per_device_eval_batch_size=size)
        metrics[size] = trainer.evaluate(with_a_broken_video)
    assert [len(p) for p in scored[4]] == [4, 4, 1] and len(scored[1]) == 9  # 9 decodable videos, 1 skipped
    torch.testing.assert_close(torch.cat(scored[4]), torch.cat(scored[1]), rtol=1e-5, atol=1e-6)
    assert metrics[4]["eval_skipped"] == 1 and metrics[4]["eval_videos"] == 9
    exact = ("eval_top1", "eval_top5", "eval_per_class_accuracy", "eval_confusion_matrix")
    assert [metrics[1][name] for name in exact] == [metrics[4][name] for name in exact]
    assert metrics[1]["eval_ece"] == pytest.approx(metrics[4]["eval_ece"], abs=1e-5)


@pytest.mark.parametrize("megabytes, decoded", [(64, 6), (0, 12)], ids=["fits", "does-not-fit"])
def test_a_test_set_that_fits_the_cache_is_decoded_once_for_every_test(
    tmp_path, rows, monkeypatch, megabytes, decoded
):
    calls = []
    real = evaluation.protocol_views
    monkeypatch.setattr(evaluation, "protocol_views", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    trainer = trainer_for(tmp_path, rows, eval_clips=2, eval_crops=1, eval_cache_mb=megabytes)
    first = trainer.evaluate(rows)
    baseline = trainer_for(tmp_path, rows, eval_clips=2, eval_crops=1, eval_cache=trainer.eval_cache)
    baseline.model.load_state_dict(trainer.model.state_dict())  # the same model: the same scores
    assert baseline.evaluate(rows) == first
    assert len(calls) == decoded


def test_an_epoch_is_one_pass_over_the_labeled_clips(tmp_path, rows):
    trainer = trainer_for(tmp_path, rows, max_steps=-1, num_train_epochs=4, per_device_train_batch_size=2)
    assert trainer.args.max_steps == 4 * 2  # 3 labeled clips, 2 a step: 2 steps an epoch, however many unlabeled


def test_the_trainer_leaves_the_arguments_it_was_given_as_they_were(tmp_path, rows):
    values = {"max_steps": -1, "num_train_epochs": 4, "save_total_limit": 2, "per_device_train_batch_size": 2}
    args = AVSSLTrainingArguments(str(tmp_path / "run"), use_cpu=True, report_to=[], mask_type="tube", **values)
    assert args.training_steps(num_labeled=3) == 8 and args.supervised_warmup_steps(num_labeled=3) == 0
    trainer = AVSSLTrainer(
        AVSSLForVideoClassification(make_tiny_config(id2label={0: "a", 1: "b", 2: "c"})),
        args,
        labeled=rows.select([0, 1, 2]),
        unlabeled=rows.select([3, 4, 5]),
        transform=ClipTransform(VideoAugmentation(32), num_frames=4, frame_stride=1, num_mel_bins=32, max_length=64),
    )
    assert (args.max_steps, args.save_total_limit) == (-1, 2)
    # the trainer's copy: the steps counted, and checkpoints rotated by its callback, after the method's files
    assert (trainer.args.max_steps, trainer.args.save_total_limit) == (8, None)


def test_each_class_has_its_pseudo_label_accuracy_and_threshold_in_the_log_and_the_trackers_get_scalars(
    tmp_path, rows
):
    trainer = trainer_for(tmp_path, rows, unlabeled=(3, 4), max_steps=4, logging_steps=2, threshold="flex", tau=0.3)
    to_trackers = []

    class Tracker(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            to_trackers.append(logs)

    trainer.add_callback(Tracker())
    trainer.train()
    assert all(isinstance(value, (int, float)) for logs in to_trackers for value in logs.values())
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    unlabeled_classes = {"abc"[rows[index]["label"]] for index in (3, 4)}
    assert len(logged) == 2 and len(unlabeled_classes) == 2
    for entry in logged:
        by_class = entry["pseudo_label_accuracy_by_class"]
        assert list(by_class) == list(entry["threshold_by_class"]) == ["a", "b", "c"]
        assert {name for name, value in by_class.items() if value is not None} == unlabeled_classes
        assert all(0 <= by_class[name] <= 1 for name in unlabeled_classes)
        assert all(0 <= value <= 0.3 for value in entry["threshold_by_class"].values())  # FlexMatch's: at most tau


def test_the_warm_up_reads_labels_alone_and_hands_over_to_a_teacher_equal_to_the_student(tmp_path, rows):
    trainer = trainer_for(
        tmp_path,
        rows,
        max_steps=5,
        supervised_warmup_epochs=1,
        pseudo_label_eval=True,
        eval_clips=1,
        eval_crops=1,
        logging_steps=1,
    )  # 3 warm-up steps of 1 clip
    seen = []
    compute_loss = trainer.compute_loss

    def recording(model, inputs, **kwargs):
        step = trainer.state.global_step
        student = trainer.accelerator.unwrap_model(model).state_dict()
        same = all(torch.equal(value, student[key]) for key, value in trainer.teacher.state_dict().items())
        seen.append((step, "index" in inputs["unlabeled"], same))
        return compute_loss(model, inputs, **kwargs)

    trainer.compute_loss = recording
    trainer.train()

    assert trainer.supervised_warmup_steps == 3
    assert [(step, has_unlabeled) for step, has_unlabeled, _ in seen] == [
        (0, False),
        (1, False),
        (2, False),
        (3, True),
        (4, True),
    ]
    assert seen[3][2] and not seen[4][2]  # a copy of the warmed-up student, then its moving average
    diagnostics = {"pseudo_label_accuracy", "threshold_min", "threshold_mean", "threshold_max"}
    logged = [diagnostics <= set(entry) for entry in trainer.state.log_history if "loss" in entry]
    assert logged == [False, False, False, True, True]  # from the first semi-supervised step on
    tests = [entry for entry in trainer.state.log_history if "unlabeled_teacher_top1" in entry]
    assert [entry["step"] for entry in tests] == [3, 5]  # every unlabeled clip, at the hand-over and at the end
    assert all(entry["unlabeled_teacher_videos"] == 3 for entry in tests)


def test_a_global_batch_sets_the_per_device_batch_and_scales_the_learning_rate(tmp_path):
    args = AVSSLTrainingArguments(
        output_dir=str(tmp_path),
        use_cpu=True,
        global_train_batch_size=8,
        gradient_accumulation_steps=2,
        learning_rate=0.005,
        lr_reference_batch_size=4,
        mask_type="tube",
    )
    assert args.per_device_train_batch_size == 4 and args.learning_rate == pytest.approx(0.01)
    again = dataclasses.replace(args)  # as the supervised-only baseline copies them
    assert again.learning_rate == pytest.approx(0.01) and again.per_device_train_batch_size == 4
    with pytest.raises(ValueError, match="does not split"):
        AVSSLTrainingArguments(
            output_dir=str(tmp_path),
            use_cpu=True,
            global_train_batch_size=3,
            gradient_accumulation_steps=2,
            mask_type="tube",
        )


def test_a_config_file_is_overridden_by_the_command_line():
    model_args, data_args, _, training_args = parse_arguments([TINY, "--max_steps", "3", "--mix_beta", "5", "10"])
    assert training_args.max_steps == 3 and training_args.mix_beta == [5.0, 10.0]
    assert data_args.dataset == "avsynth" and model_args.model_config.endswith("avsynth_tiny_model.json")
    assert training_args.ignore_data_skip


KILLED_WHILE_SAVING = """
import os, runpy, signal, sys
from modeling_avssl.method import state as method_state

save_file = method_state.save_file


def save_then_die(tensors, path, *args, **kwargs):  # the teacher of checkpoint-4 written, the rest not
    save_file(tensors, path, *args, **kwargs)
    if "checkpoint-4" in str(path):
        os.kill(os.getpid(), signal.SIGKILL)


method_state.save_file = save_then_die
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.slow
def test_a_resumed_run_ends_with_the_uninterrupted_runs_student_and_teacher(tmp_path, avsynth, uninterrupted):
    resume = ["--resume_from_checkpoint", str(uninterrupted / "checkpoint-2")]
    train(tiny_run(tmp_path / "resumed", avsynth, *CHECKPOINTS, *resume))
    assert_same_end(tmp_path / "resumed", uninterrupted)


@pytest.mark.slow
def test_a_run_killed_while_saving_resumes_from_its_last_complete_checkpoint(tmp_path, avsynth, uninterrupted, caplog):
    run = tiny_run(tmp_path / "run", avsynth, *CHECKPOINTS, "--save_total_limit", "1")  # rotated only once complete
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_SAVING, os.path.join(ROOT, "train_avssl.py"), *run],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    partial = tmp_path / "run" / "checkpoint-4"
    assert (partial / "teacher.safetensors").exists() and not (partial / "checkpoint_complete.json").exists()

    with caplog.at_level("INFO"):
        train([*run, "--resume_from_checkpoint", "latest"])
    assert f"{partial} is incomplete" in caplog.text
    assert f"Resuming from {tmp_path / 'run' / 'checkpoint-2'}" in caplog.text
    assert_same_end(tmp_path / "run", uninterrupted)


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda folder: (folder / "teacher.safetensors").write_bytes(b"\x00" * 20), "teacher.safetensors: damaged"),
        (lambda folder: (folder / "avssl_state.json").write_text("{"), "avssl_state.json: damaged, not valid JSON"),
        (lambda folder: (folder / "avssl_state.json").write_text("{}"), "avssl_state.json: damaged, it lacks"),
        (lambda folder: (folder / "optimizer.pt").unlink(), "optimizer.pt: missing; without it the optimizer"),
        (lambda folder: (folder / "scheduler.pt").write_bytes(b"junk"), "scheduler.pt: damaged"),
        (lambda folder: (folder / "avssl_process_state_0.json").unlink(), "avssl_process_state_0.json: missing"),
        (lambda folder: (folder / "checkpoint_complete.json").unlink(), "incomplete"),
    ],
    ids=["teacher", "state-json", "state-keys", "optimizer", "scheduler", "process-state", "incomplete"],
)
def test_a_damaged_checkpoint_is_an_error_that_names_the_file(tmp_path, avsynth, uninterrupted, damage, message):
    folder = tmp_path / "checkpoint-2"
    shutil.copytree(uninterrupted / "checkpoint-2", folder)
    damage(folder)
    with pytest.raises(CheckpointError, match=message):
        train(tiny_run(tmp_path / "resumed", avsynth, *CHECKPOINTS, "--resume_from_checkpoint", str(folder)))


@pytest.mark.slow
def test_resume_latest_without_a_checkpoint_says_so(tmp_path, avsynth):
    with pytest.raises(CheckpointError, match="no complete checkpoint to resume from"):
        train(tiny_run(tmp_path / "new", avsynth, *CHECKPOINTS, "--resume_from_checkpoint", "true"))


@pytest.mark.slow
def test_the_final_folder_holds_what_push_to_hub_uploads(tmp_path, avsynth):
    train(tiny_run(tmp_path / "run", avsynth, "--export_teacher", "true"))
    files = set(os.listdir(tmp_path / "run"))
    assert {
        "config.json",
        "model.safetensors",
        "modeling_avssl.py",
        "configuration_avssl.py",
        "processing_avssl.py",
        "processor_config.json",
        "README.md",
        "eval_results.json",
        "train_results.json",
        "all_results.json",
        "confusion_matrix.png",
        "reliability_diagram.png",
        "pseudo_labels_by_class.png",
    } <= files
    assert "auto_map" in json.loads((tmp_path / "run" / "config.json").read_text())
    metrics = json.loads((tmp_path / "run" / "eval_results.json").read_text())
    assert metrics["eval_videos"] == 12 and 0 <= metrics["eval_top1"] <= metrics["eval_top5"] <= 1
    card = ModelCard.load(tmp_path / "run" / "README.md")
    assert (card.data.library_name, card.data.pipeline_tag) == ("transformers", "video-classification")
    top1 = card.data.eval_results[0]  # the Hub's model-index
    assert (top1.metric_name, top1.metric_value, top1.task_type) == (
        "top-1 accuracy",
        round(metrics["eval_top1"], 4),
        "video-classification",
    )
    assert "| top1 |" in card.text and "| gamma_mix | 2.0 |" in card.text and "{{" not in card.text
    assert all(f"| {name} | " in card.text for name in metrics["eval_per_class_accuracy"])
    assert "Its weights were initialised at random (`" in card.text


@pytest.mark.slow
def test_a_trained_model_is_tested_again_without_training(tmp_path, avsynth):
    train(tiny_run(tmp_path / "run", avsynth, "--supervised_baseline", "false"))
    trained = json.loads((tmp_path / "run" / "eval_results.json").read_text())

    def test_only(name: str) -> list[str]:
        return tiny_run(tmp_path / name, avsynth, "--model_name_or_path", str(tmp_path / "run"), "--do_train", "false")

    train(test_only("tested"))
    again = json.loads((tmp_path / "tested" / "eval_results.json").read_text())
    assert again["eval_top1"] == trained["eval_top1"]
    assert again["eval_confusion_matrix"] == trained["eval_confusion_matrix"]
    assert not any(name.startswith("teacher_") for name in again)  # nothing was trained, so no other model
    files = set(os.listdir(tmp_path / "tested"))
    assert {"eval_results.json", "all_results.json", "confusion_matrix.png", "reliability_diagram.png"} <= files
    assert not {"model.safetensors", "README.md", "train_results.json"} & files
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    config["id2label"] = {index: f"other {name}" for index, name in config["id2label"].items()}
    (tmp_path / "run" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="trained on the classes"):  # not a head made anew and tested as if trained
        train(test_only("other"))


def test_the_model_card_names_the_starting_weights():
    def start(*flags: str) -> str:
        return starting_point(parse_arguments([DEFAULT_CONFIG, *flags])[0])

    assert start() == "started from the AVSSL checkpoint `pretrained/avsynth`"
    assert start("--model_config", "configs/avsynth_model.json") == (
        "initialised at random (`configs/avsynth_model.json`)"
    )
    paper = start("--model_name_or_path", "", "--audio_model_name_or_path", "MIT/ast-finetuned-audioset-10-10-0.4593")
    assert paper == "started from `MCG-NJU/videomae-base` and `MIT/ast-finetuned-audioset-10-10-0.4593`"
    video_only = start("--model_name_or_path", "", "--audio_model_name_or_path", "none")
    assert video_only == "started from `MCG-NJU/videomae-base`"


@pytest.mark.slow
@pytest.mark.parametrize("negatives", ["global", "local"])
def test_two_processes_with_global_negatives_train_as_one_with_the_whole_batch(tmp_path, avsynth, negatives):
    """Both read the same clips (the streams are sharded by position); with no mixing nothing else differs, so only
    L_c's negatives (every process's clips, or each process's own) can tell the runs apart."""
    no_mixing = ["--max_steps", "3", "--mask_type", "none", "--gamma_mix", "0", "--contrastive_negatives", negatives]
    train(tiny_run(tmp_path / "one", avsynth, *no_mixing, "--per_device_train_batch_size", "2"))
    two = tiny_run(tmp_path / "two", avsynth, *no_mixing, "--per_device_train_batch_size", "1")
    launch = launch_two_processes(tmp_path / "processes.json", two)
    assert launch.returncode == 0, launch.stderr[-3000:]
    one, two = (load_file(tmp_path / run / "model.safetensors") for run in ("one", "two"))
    differences = [float((one[name] - two[name]).abs().max()) for name in one]
    if negatives == "global":
        assert max(differences) < 1e-5
    else:  # each process contrasts half the clips: a different loss, different weights
        assert max(differences) > 1e-4


@pytest.mark.slow
def test_two_processes_keep_one_teacher_and_one_flexmatch_record(tmp_path, avsynth):
    train(tiny_run(tmp_path / "prepare", avsynth, "--max_steps", "1"))  # generates AVSynth once, outside the launch
    out = tmp_path / "processes.json"
    launch = launch_two_processes(out, tiny_run(tmp_path / "ddp", avsynth, "--max_steps", "4", "--tau", "0.05"))
    assert launch.returncode == 0, launch.stderr[-3000:]
    first, second = json.loads(out.read_text())
    assert first["teacher"] == second["teacher"]
    assert first["record"] == second["record"] and any(label >= 0 for label in first["record"])


def test_a_checkpoint_loads_with_an_indexed_cpu_map_location_as_transformers_5_17_asks_on_cpu_processes(tmp_path):
    """transformers 5.17 resumes a multi-process CPU run's optimizer with `map_location="cpu:0"`."""
    torch.save({"momentum": torch.ones(3)}, tmp_path / "optimizer.pt")
    loaded = torch.load(tmp_path / "optimizer.pt", map_location="cpu:0", weights_only=True)
    assert loaded["momentum"].device.type == "cpu" and loaded["momentum"].tolist() == [1.0, 1.0, 1.0]
