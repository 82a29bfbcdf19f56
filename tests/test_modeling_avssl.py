"""Behaviour of AVSSLModel / AVSSLForVideoClassification as a transformers model."""

import json

import pytest
import torch
from runs import run_without_the_package
from safetensors.torch import load_file, save_file
from transformers import (
    ASTConfig,
    ASTForAudioClassification,
    AutoConfig,
    AutoModel,
    AutoModelForVideoClassification,
    TimesformerConfig,
    TimesformerForVideoClassification,
    VideoMAEConfig,
    VideoMAEForPreTraining,
)

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification, AVSSLModel
from tiny import TINY_AST, TINY_TIMESFORMER, TINY_VIDEOMAE, make_inputs, make_tiny_config


VIDEO_CONFIGS = {"videomae": TINY_VIDEOMAE, "timesformer": TINY_TIMESFORMER}


def tiny_model(**overrides) -> AVSSLForVideoClassification:
    return AVSSLForVideoClassification(make_tiny_config(**overrides)).eval()


def all_false_mix(config: AVSSLConfig, partner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    slots, height, width = config.video_token_grid
    return torch.zeros(len(partner), slots * height * width, dtype=torch.bool), partner


# --- outputs -----------------------------------------------------------------------------------------------------


def test_classifier_returns_logits_embeddings_and_cross_entropy_loss():
    model = tiny_model()
    inputs = make_inputs(model.config, batch_size=2)
    labels = torch.tensor([0, 2])

    outputs = model(**inputs, labels=labels)

    assert outputs.logits.shape == (2, 3)
    assert outputs.video_embeds.shape == (2, TINY_VIDEOMAE["hidden_size"])
    assert outputs.audio_embeds.shape == (2, TINY_AST["hidden_size"])
    torch.testing.assert_close(outputs.loss, torch.nn.functional.cross_entropy(outputs.logits, labels))


def test_hidden_states_are_returned_on_request():
    model = tiny_model()
    outputs = model(**make_inputs(model.config), output_hidden_states=True)

    # embeddings + one per layer; the model's video CLS token is the first of 1 + 2x2x2 tokens
    assert len(outputs.video_hidden_states) == TINY_VIDEOMAE["num_hidden_layers"] + 1
    assert outputs.video_hidden_states[-1].shape == (3, 1 + 8, 32)
    assert len(outputs.audio_hidden_states) == TINY_AST["num_hidden_layers"] + 1
    assert model(**make_inputs(model.config)).video_hidden_states is None


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
@pytest.mark.parametrize("selection", [[0, -1], 1, [2, 0, -3]], ids=["first-and-last", "one-index", "repeats"])
def test_output_hidden_states_as_layer_indices_keeps_those_of_both_encoders_and_none_elsewhere(video, selection):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video]))
    inputs = make_inputs(model.config)
    everything = model(**inputs, output_hidden_states=True)
    kept = {i % 3 for i in ([selection] if isinstance(selection, int) else selection)}

    selected = model(**inputs, output_hidden_states=selection)

    for name in ("video_hidden_states", "audio_hidden_states"):
        assert len(getattr(selected, name)) == 3
        for i, (chosen, full) in enumerate(zip(getattr(selected, name), getattr(everything, name))):
            if i in kept:
                torch.testing.assert_close(chosen, full)
            else:
                assert chosen is None
    torch.testing.assert_close(selected.logits, everything.logits)


def test_a_hidden_state_index_out_of_range_is_refused():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"indices \[3\] are out of range: this encoder has 3 hidden states"):
        model(**make_inputs(model.config), output_hidden_states=[0, 3])


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_output_attentions_returns_the_video_audio_and_fusion_attentions(video):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video]), attn_implementation="eager")
    inputs = make_inputs(model.config)

    outputs = model(**inputs, output_attentions=True)

    video_tokens = 1 + 8 if video == "videomae" else 1 + 4  # TimeSformer: per frame, its CLS and 2x2 patches
    video_batch = 3 if video == "videomae" else 3 * TINY_TIMESFORMER["num_frames"]
    assert [a.shape for a in outputs.video_attentions] == [(video_batch, 4, video_tokens, video_tokens)] * 2
    assert [a.shape for a in outputs.audio_attentions] == [(3, 4, 2 + 8, 2 + 8)] * 2  # AST: CLS, distillation, 2x4
    assert [a.shape for a in outputs.fusion_attentions] == [(3, 4, 2, 2)] * 2
    for attention in outputs.video_attentions + outputs.audio_attentions + outputs.fusion_attentions:
        torch.testing.assert_close(attention.sum(-1), torch.ones(attention.shape[:-1]))
    torch.testing.assert_close(outputs.logits, model(**inputs).logits)
    assert model(**inputs).fusion_attentions is None


def test_config_output_attentions_and_hidden_states_are_the_defaults_of_forward():
    model = tiny_model(attn_implementation="eager", output_attentions=True, output_hidden_states=True)
    outputs = model(**make_inputs(model.config))

    assert len(outputs.video_attentions) == len(outputs.audio_attentions) == len(outputs.fusion_attentions) == 2
    assert len(outputs.video_hidden_states) == len(outputs.audio_hidden_states) == 3
    assert model(**make_inputs(model.config), output_attentions=False).video_attentions is None


def test_output_attentions_with_sdpa_says_to_load_the_model_with_eager_attention():
    model = tiny_model()
    with pytest.raises(ValueError, match='needs eager attention.*attn_implementation="eager"'):
        model(**make_inputs(model.config), output_attentions=True)


def test_return_dict_false_gives_a_tuple_starting_with_logits():
    model = tiny_model()
    inputs = make_inputs(model.config)
    as_tuple = model(**inputs, return_dict=False)
    torch.testing.assert_close(as_tuple[0], model(**inputs).logits)


# --- determinism and batching ------------------------------------------------------------------------------------


def test_eval_mode_is_deterministic_and_train_mode_applies_dropout():
    model = tiny_model(hidden_dropout_prob=0.3, classifier_dropout=0.3)
    inputs = make_inputs(model.config)

    torch.testing.assert_close(model(**inputs).logits, model(**inputs).logits, rtol=0, atol=0)
    model.train()
    assert not torch.allclose(model(**inputs).logits, model(**inputs).logits)


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
@pytest.mark.parametrize("audio", [True, False], ids=["audio-visual", "video-only"])
def test_a_batch_of_n_equals_n_batches_of_one(video, audio):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video]), audio_config=dict(TINY_AST) if audio else None)
    inputs = make_inputs(model.config, batch_size=4)

    batched = model(**inputs).logits
    one_by_one = torch.cat([model(**{k: v[i : i + 1] for k, v in inputs.items()}).logits for i in range(4)])

    torch.testing.assert_close(batched, one_by_one, rtol=1e-5, atol=1e-5)


# --- training behaviour ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
@pytest.mark.parametrize("audio", [True, False], ids=["audio-visual", "video-only"])
def test_every_trainable_parameter_gets_a_gradient(video, pooling, audio):
    config = make_tiny_config(
        video_config=dict(VIDEO_CONFIGS[video]), video_pooling=pooling, audio_config=dict(TINY_AST) if audio else None
    )
    model = AVSSLForVideoClassification(config).train()
    inputs = make_inputs(config)

    model(**inputs, labels=torch.tensor([0, 1, 2])).loss.backward()

    missing = [
        name for name, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())
    ]
    assert missing == []


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_under_bf16_autocast_the_outputs_and_gradients_follow_float32(video, device):
    """Relative L2 error under 3e-2 for the logits and for all the gradients together (bf16 keeps 8 bits of
    mantissa; measured 0.6-0.9% and 0.8-1.7% on the CPU)."""
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video])).train().to(device)
    inputs = {name: value.to(device) for name, value in make_inputs(model.config, batch_size=4).items()}
    labels = torch.tensor([0, 1, 2, 0], device=device)

    def run(bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
        model.zero_grad()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            outputs = model(**inputs, labels=labels)
        outputs.loss.backward()
        return outputs.logits.detach().float(), torch.cat([p.grad.flatten() for p in model.parameters()])

    float32, bf16 = run(False), run(True)
    for low, high in zip(bf16, float32):
        assert float((low - high).norm() / high.norm()) < 3e-2


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_gradient_checkpointing_gives_the_same_outputs_and_gradients(video):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video])).train()
    inputs = make_inputs(model.config)
    labels = torch.tensor([0, 1, 2])

    def run():
        model.zero_grad()
        outputs = model(**inputs, labels=labels)
        outputs.loss.backward()
        return outputs.logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}

    plain_logits, plain_grads = run()
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    checkpointed_logits, checkpointed_grads = run()

    torch.testing.assert_close(checkpointed_logits, plain_logits)
    for name, grad in plain_grads.items():
        torch.testing.assert_close(checkpointed_grads[name], grad, msg=name)


def test_eager_and_sdpa_attention_give_the_same_outputs(tmp_path):
    tiny_model().save_pretrained(tmp_path)
    eager = AVSSLForVideoClassification.from_pretrained(tmp_path, attn_implementation="eager").eval()
    sdpa = AVSSLForVideoClassification.from_pretrained(tmp_path, attn_implementation="sdpa").eval()
    inputs = make_inputs(eager.config)

    for config in (eager.config, eager.config.video_config, eager.config.audio_config):
        assert config._attn_implementation == "eager"
    assert sdpa.config.audio_config._attn_implementation == "sdpa"
    torch.testing.assert_close(eager(**inputs).logits, sdpa(**inputs).logits, rtol=1e-5, atol=1e-5)


# --- token mixing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_token_mix_with_an_all_true_mask_equals_no_mixing(video):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video]))
    inputs = make_inputs(model.config)
    slots, height, width = model.config.video_token_grid
    keep_all = torch.ones(3, slots * height * width, dtype=torch.bool)

    mixed = model(**inputs, token_mix=(keep_all, torch.tensor([1, 2, 0]))).logits

    torch.testing.assert_close(mixed, model(**inputs).logits, rtol=0, atol=0)


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_token_mix_with_an_all_false_mask_runs_the_partners_video_with_this_samples_audio(video):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video]))
    inputs = make_inputs(model.config)
    partner = torch.tensor([2, 0, 1])

    mixed = model(**inputs, token_mix=all_false_mix(model.config, partner))
    swapped = model(pixel_values=inputs["pixel_values"][partner], input_values=inputs["input_values"])

    torch.testing.assert_close(mixed.logits, swapped.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mixed.audio_embeds, model(**inputs).audio_embeds)


def test_token_mix_takes_each_masked_token_from_the_partner_only():
    model = tiny_model()
    inputs = make_inputs(model.config)
    slots, height, width = model.config.video_token_grid
    mask = torch.ones(3, slots * height * width, dtype=torch.bool)
    mask[0, 5] = False
    partner = torch.tensor([1, 2, 0])

    mixed = model(**inputs, token_mix=(mask, partner)).logits
    plain = model(**inputs).logits

    assert not torch.allclose(mixed[0], plain[0])
    torch.testing.assert_close(mixed[1:], plain[1:], rtol=0, atol=0)


def test_a_forward_after_a_mixed_one_is_unmixed_and_no_forward_adds_or_removes_a_hook():
    model = tiny_model()
    inputs = make_inputs(model.config)
    plain = model(**inputs).logits
    embeddings = model.avssl.video_encoder.embeddings
    hooks = [dict(embeddings._forward_hooks), dict(embeddings.patch_embeddings._forward_hooks)]
    model(**inputs, token_mix=all_false_mix(model.config, torch.tensor([1, 2, 0])))
    with pytest.raises(ValueError):  # a forward that fails after mixing leaves none behind either
        model(
            inputs["pixel_values"],
            inputs["input_values"][:, :-1],
            token_mix=all_false_mix(model.config, torch.arange(3)),
        )
    torch.testing.assert_close(model(**inputs).logits, plain, rtol=0, atol=0)
    assert [dict(embeddings._forward_hooks), dict(embeddings.patch_embeddings._forward_hooks)] == hooks


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_the_compiled_model_runs_mixed_forwards_in_one_graph_without_recompiling(video):
    torch._dynamo.reset()
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video])).train()
    compiled = torch.compile(model, backend="eager", fullgraph=True)  # fullgraph: a graph break is an error
    slots, height, width = model.config.video_token_grid
    with torch._dynamo.config.patch(error_on_recompile=True):
        for seed in range(3):  # new clips, masks and partners
            generator = torch.Generator().manual_seed(seed)
            mask = torch.rand(3, slots * height * width, generator=generator) > 0.5
            token_mix = (mask, torch.randperm(3, generator=generator))
            mixed = compiled(**make_inputs(model.config, seed=seed), token_mix=token_mix)
            mixed.logits.sum().backward()
            torch.testing.assert_close(
                mixed.logits, model(**make_inputs(model.config, seed=seed), token_mix=token_mix).logits
            )


# --- video-only baseline -----------------------------------------------------------------------------------------


def test_video_only_config_has_no_audio_encoder_or_fusion():
    model = tiny_model(audio_config=None)
    inputs = make_inputs(model.config)

    outputs = model(**inputs)

    assert model.avssl.audio_encoder is None and model.avssl.fusion is None
    assert not any(name.startswith(("avssl.audio_encoder", "avssl.fusion")) for name, _ in model.named_parameters())
    assert outputs.logits.shape == (3, 3) and outputs.audio_embeds is None
    assert model.classifier.in_features == TINY_VIDEOMAE["hidden_size"]


def test_video_only_round_trip_stays_video_only(tmp_path):
    tiny_model(audio_config=None).save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["audio_config"] is None
    assert AVSSLForVideoClassification.from_pretrained(tmp_path).avssl.audio_encoder is None


# --- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"pixel_values": torch.randn(2, 6, 3, 32, 32)}, r"\(batch, 4, 3, 32, 32\).*got \(2, 6, 3, 32, 32\)"),
        ({"pixel_values": torch.randn(2, 4, 3, 48, 48)}, r"\(batch, 4, 3, 32, 32\).*got \(2, 4, 3, 48, 48\)"),
        ({"pixel_values": torch.randn(2, 3, 32, 32)}, r"\(batch, frames, channels, height, width\)"),
        ({"input_values": None}, r"audio-visual model: pass `input_values`.*\(batch, 64, 32\)"),
        ({"input_values": torch.randn(2, 100, 32)}, r"\(2, 64, 32\).*got \(2, 100, 32\)"),
        ({"input_values": torch.randn(3, 64, 32)}, r"\(2, 64, 32\).*got \(3, 64, 32\)"),
    ],
    ids=["frame-count", "image-size", "missing-time-axis", "missing-audio", "audio-length", "audio-batch"],
)
def test_inputs_of_the_wrong_shape_raise_a_value_error_saying_what_was_expected(change, message):
    model = tiny_model()
    inputs = {**make_inputs(model.config, batch_size=2), **change}
    with pytest.raises(ValueError, match=message):
        model(**inputs)


def test_video_only_model_refuses_audio():
    model = tiny_model(audio_config=None)
    with pytest.raises(ValueError, match="video-only"):
        model(**make_inputs(model.config), input_values=torch.randn(3, 64, 32))


@pytest.mark.parametrize(
    "token_mix, message",
    [
        (
            (torch.ones(3, 7, dtype=torch.bool), torch.tensor([1, 2, 0])),
            r"bool of shape \(batch, video tokens\) = \(3, 8\)",
        ),
        ((torch.ones(3, 8), torch.tensor([1, 2, 0])), r"bool of shape"),
        ((torch.ones(3, 8, dtype=torch.bool), torch.tensor([1, 2])), r"partner must be long of shape \(3,\)"),
    ],
    ids=["mask-length", "mask-dtype", "partner-shape"],
)
def test_malformed_token_mix_raises_a_value_error(token_mix, message):
    model = tiny_model()
    with pytest.raises(ValueError, match=message):
        model(**make_inputs(model.config), token_mix=token_mix)


# --- saving, loading, Auto classes and remote code ---------------------------------------------------------------


def test_save_and_load_round_trip_through_safetensors_gives_identical_outputs(tmp_path):
    model = tiny_model()
    inputs = make_inputs(model.config)
    model.save_pretrained(tmp_path)

    assert (tmp_path / "model.safetensors").is_file()
    assert not list(tmp_path.glob("*.bin"))
    # transformers may store a sub-model under its Hub checkpoint names, so compare counts, not names
    assert len(load_file(tmp_path / "model.safetensors")) == len(model.state_dict())

    loaded = AVSSLForVideoClassification.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits, rtol=0, atol=0)
    assert loaded.config.id2label == {0: "bounce", 1: "slide", 2: "pulse"}


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_every_tensor_the_model_holds_moves_with_it_and_checkpoints_keep_their_keys(tmp_path, video):
    model = tiny_model(video_config=dict(VIDEO_CONFIGS[video]))
    inputs = make_inputs(model.config)
    expected = model(**inputs).logits
    model.save_pretrained(tmp_path)
    loaded = AVSSLForVideoClassification.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(loaded(**inputs).logits, expected, rtol=0, atol=0)
    assert set(loaded.state_dict()) == set(model.state_dict())

    loaded.to("meta")
    left_behind = [
        f"{type(module).__name__}.{name}"
        for module in loaded.modules()
        for name, value in vars(module).items()
        if isinstance(value, torch.Tensor) and value.device.type != "meta"
    ]
    assert not left_behind


def test_auto_classes_know_the_avssl_model_type(tmp_path):
    config = make_tiny_config()
    assert isinstance(AutoConfig.for_model("avssl"), AVSSLConfig)
    assert isinstance(AutoModel.from_config(config), AVSSLModel)
    assert isinstance(AutoModelForVideoClassification.from_config(config), AVSSLForVideoClassification)

    tiny_model().save_pretrained(tmp_path)
    assert isinstance(AutoModelForVideoClassification.from_pretrained(tmp_path), AVSSLForVideoClassification)
    base = AutoModel.from_pretrained(tmp_path)
    assert isinstance(base, AVSSLModel)


def test_save_pretrained_writes_remote_code(tmp_path):
    tiny_model().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())

    assert config["auto_map"] == {
        "AutoConfig": "configuration_avssl.AVSSLConfig",
        "AutoModel": "modeling_avssl.AVSSLModel",
        "AutoModelForVideoClassification": "modeling_avssl.AVSSLForVideoClassification",
    }
    assert (tmp_path / "modeling_avssl.py").is_file() and (tmp_path / "configuration_avssl.py").is_file()


REMOTE_LOAD = """
import torch
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForVideoClassification

model = AutoModelForVideoClassification.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
base = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
assert type(model).__module__.startswith("transformers_modules."), type(model).__module__
assert type(base).__name__ == "AVSSLModel", type(base)
tensors = load_file(sys.argv[2])
inputs = {"pixel_values": tensors["pixel_values"], "input_values": tensors["input_values"]}
with torch.no_grad():
    logits = model(**inputs).logits
    pooled = base(**inputs).pooler_output
torch.testing.assert_close(logits, tensors["logits"], rtol=0, atol=0)
torch.testing.assert_close(pooled, tensors["pooled"], rtol=0, atol=0)
print("remote logits equal")
"""


def test_a_process_without_the_package_loads_the_folder_as_remote_code(tmp_path):
    model = tiny_model()
    inputs = make_inputs(model.config)
    with torch.no_grad():
        logits = model(**inputs).logits
        pooled = model.avssl(**inputs).pooler_output
    model.save_pretrained(tmp_path / "model")
    save_file({**inputs, "logits": logits, "pooled": pooled}, tmp_path / "expected.safetensors")
    result = run_without_the_package(
        REMOTE_LOAD, [str(tmp_path / "model"), str(tmp_path / "expected.safetensors")], tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "remote logits equal" in result.stdout


# --- starting from pretrained encoders ---------------------------------------------------------------------------


def _save_standins(tmp_path, video: str):
    """Checkpoints of the same format as MCG-NJU/videomae-base (or a TimeSformer one) and the AST AudioSet one."""
    video_config = {k: v for k, v in VIDEO_CONFIGS[video].items() if k != "model_type"}
    if video == "videomae":
        video_model = VideoMAEForPreTraining(VideoMAEConfig(**video_config, use_mean_pooling=False))
    else:
        video_model = TimesformerForVideoClassification(TimesformerConfig(**video_config, num_labels=400))
    audio_config = {k: v for k, v in TINY_AST.items() if k != "model_type"}
    audio_model = ASTForAudioClassification(ASTConfig(**audio_config, num_labels=527))
    video_model.save_pretrained(tmp_path / "video")
    audio_model.save_pretrained(tmp_path / "audio")
    return video_model, audio_model


@pytest.mark.parametrize("video", ["videomae", "timesformer"])
def test_from_encoders_pretrained_starts_both_encoders_from_the_checkpoints(tmp_path, video):
    video_model, audio_model = _save_standins(tmp_path, video)

    model = AVSSLForVideoClassification.from_encoders_pretrained(
        str(tmp_path / "video"), str(tmp_path / "audio"), id2label={0: "a", 1: "b"}, fusion_num_layers=1
    )

    assert model.config.num_labels == 2 and model.config.fusion_num_layers == 1
    assert model.config.video_config.model_type == video
    for encoder, pretrained in (
        (model.avssl.video_encoder, video_model.base_model),
        (model.avssl.audio_encoder, audio_model.base_model),
    ):
        expected = pretrained.state_dict()
        assert set(encoder.state_dict()) == set(expected)
        for name, tensor in encoder.state_dict().items():
            torch.testing.assert_close(tensor, expected[name], rtol=0, atol=0, msg=name)
    inputs = make_inputs(model.config)
    assert model(**inputs).logits.shape == (3, 2)


def test_from_encoders_pretrained_without_audio_builds_the_video_only_model(tmp_path):
    _save_standins(tmp_path, "videomae")
    model = AVSSLForVideoClassification.from_encoders_pretrained(str(tmp_path / "video"), None, num_labels=5)
    assert not model.config.is_audio_visual and model.avssl.audio_encoder is None


def test_the_base_model_also_starts_from_pretrained_encoders(tmp_path):
    _save_standins(tmp_path, "videomae")
    model = AVSSLModel.from_encoders_pretrained(str(tmp_path / "video"), str(tmp_path / "audio"))
    assert isinstance(model, AVSSLModel) and model.config.is_audio_visual


def test_swapped_checkpoints_are_refused_with_a_clear_error(tmp_path):
    _save_standins(tmp_path, "videomae")
    with pytest.raises(ValueError, match=r"`video_config` must be a config of one of \('videomae', 'timesformer'\)"):
        AVSSLForVideoClassification.from_encoders_pretrained(str(tmp_path / "audio"), str(tmp_path / "video"))
