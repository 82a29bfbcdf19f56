"""Behaviour of AVSSLLocalizer (maps, losses) and of converting official EZ-VSL / FNAC checkpoints."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models import resnet18

from modeling_avssl.configuration_avssl import AVSSLLocalizerConfig
from modeling_avssl.localizer.convert import convert
from modeling_avssl.localizer.convert import main as convert_command
from modeling_avssl.localizer.modeling_localizer import AVSSLLocalizer, localization_losses


class OfficialLocalizer(nn.Module):
    """The module layout and map of FNAC_AVL's `model.py` (EZ-VSL's is the same), built here as the reference."""

    def __init__(self, dim: int):
        super().__init__()
        self.imgnet = resnet18()
        self.imgnet.avgpool, self.imgnet.fc = nn.Identity(), nn.Identity()
        self.img_proj = nn.Conv2d(512, dim, kernel_size=(1, 1))
        self.audnet = resnet18()
        self.audnet.conv1 = nn.Conv2d(1, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
        self.audnet.avgpool = nn.AdaptiveMaxPool2d((1, 1))
        self.audnet.fc = nn.Identity()
        self.aud_proj = nn.Linear(512, dim)

    def forward(self, image, audio):
        img = F.normalize(self.img_proj(self.imgnet(image).unflatten(1, (512, 7, 7))), dim=1)
        aud = F.normalize(self.aud_proj(self.audnet(audio)), dim=1)
        return torch.einsum("nchw,nc->nhw", img, aud)


def official_checkpoint(
    path, dim: int = 64, prefix: str = "module.", drop: str | None = None, extra: str | None = None
):
    reference = OfficialLocalizer(dim)
    for module in reference.modules():  # batch-norm statistics that matter in eval mode
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    state = {prefix + k: v for k, v in reference.state_dict().items() if k != drop}
    if extra:
        state[extra] = torch.zeros(3)
    torch.save({"model": state, "epoch": 20}, path)
    return reference.eval()


def tiny_localizer(**overrides) -> AVSSLLocalizer:
    return AVSSLLocalizer(AVSSLLocalizerConfig(embed_dim=32, **overrides))


def test_maps_are_the_cosine_similarity_of_audio_and_each_position_for_frames_and_clips():
    model = tiny_localizer().eval()
    frames, spectrogram = torch.randn(2, 3, 64, 64), torch.randn(2, 64, 96)

    single = model(frames, spectrogram)
    clips = model(frames.unsqueeze(1).expand(-1, 3, -1, -1, -1), spectrogram)

    assert single.maps.shape == (2, 2, 2) and clips.maps.shape == (2, 3, 2, 2)
    expected = F.cosine_similarity(single.image_embeds, single.audio_embeds[:, :, None, None], dim=1)
    torch.testing.assert_close(single.maps, expected)
    torch.testing.assert_close(clips.maps, single.maps.unsqueeze(1).expand(-1, 3, -1, -1))
    assert torch.allclose(single.audio_embeds.norm(dim=1), torch.ones(2))


@pytest.mark.parametrize("stages, side", [(4, 2), (3, 4), (2, 8), (1, 16)])
def test_fewer_visual_stages_give_finer_maps_and_keep_no_weights_of_the_dropped_stages(stages, side):
    model = tiny_localizer(visual_stages=stages).eval()
    outputs = model(torch.randn(2, 3, 64, 64), torch.randn(2, 64, 96))
    assert outputs.maps.shape == (2, side, side)
    kept = {name.split(".")[1] for name in model.state_dict() if name.startswith("visual_encoder.layer")}
    assert kept == {f"layer{i}" for i in range(1, stages + 1)}


@pytest.mark.parametrize("stages, width", [(4, 512), (3, 256), (2, 128), (1, 64)])
def test_fewer_audio_stages_keep_the_embedding_and_no_weights_of_the_dropped_stages(stages, width):
    model = tiny_localizer(audio_stages=stages).eval()
    outputs = model(torch.randn(2, 3, 64, 64), torch.randn(2, 64, 96))
    assert outputs.audio_embeds.shape == (2, model.config.embed_dim)
    assert model.audio_projection.in_features == width
    kept = {name.split(".")[1] for name in model.state_dict() if name.startswith("audio_encoder.layer")}
    assert kept == {f"layer{i}" for i in range(1, stages + 1)}


@pytest.mark.parametrize("name", ["visual_stages", "audio_stages"])
def test_stages_outside_resnet18s_four_are_refused(name):
    with pytest.raises(ValueError, match=f"`{name}` must be 1, 2, 3 or 4"):
        AVSSLLocalizerConfig(**{name: 5})


def test_mean_pooling_scores_each_clip_by_its_mean_visual_embedding():
    image_embeds = F.normalize(torch.randn(3, 8, 2, 2), dim=1)
    audio_embeds = F.normalize(torch.randn(3, 8), dim=1)
    pooled = F.normalize(image_embeds.mean(dim=(2, 3)), dim=1)
    logits = pooled @ audio_embeds.T / 0.1
    expected = F.cross_entropy(logits, torch.arange(3)) + F.cross_entropy(logits.T, torch.arange(3))
    terms = localization_losses(image_embeds, audio_embeds, 0.1, 0.6, pooling="mean")
    torch.testing.assert_close(terms["contrastive"], expected)
    with pytest.raises(ValueError, match="`pooling` must be 'max' or 'mean'"):
        localization_losses(image_embeds, audio_embeds, 0.1, 0.6, pooling="sum")


def test_the_loss_is_the_contrastive_term_plus_weighted_fnac_terms_and_trains_everything():
    model = tiny_localizer(fns1_weight=2.0, tns_weight=3.0, fns2_weight=5.0).train()
    outputs = model(torch.randn(4, 3, 64, 64), torch.randn(4, 64, 96), return_loss=True)

    terms = outputs.loss_terms
    assert set(terms) == {"contrastive", "fns1", "tns", "fns2"}
    expected = terms["contrastive"] + 2 * terms["fns1"] + 3 * terms["tns"] + 5 * terms["fns2"]
    torch.testing.assert_close(outputs.loss, expected)
    outputs.loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_zero_fnac_weights_give_the_ez_vsl_loss():
    model = tiny_localizer(fns1_weight=0, tns_weight=0, fns2_weight=0).eval()
    outputs = model(torch.randn(3, 3, 64, 64), torch.randn(3, 64, 96), return_loss=True)
    torch.testing.assert_close(outputs.loss, outputs.loss_terms["contrastive"])


@pytest.mark.parametrize(
    "frames, spectrogram, message",
    [
        (torch.randn(2, 64, 64), torch.randn(2, 64, 96), r"frames \(batch, 3, H, W\) or clips"),
        (torch.randn(2, 3, 64, 64), torch.randn(3, 64, 96), r"with batch 2"),
        (torch.randn(2, 3, 64, 64), torch.randn(2, 2, 64, 96), r"\(batch, 1, freq, time\)"),
    ],
)
def test_inputs_of_the_wrong_shape_raise_a_value_error(frames, spectrogram, message):
    with pytest.raises(ValueError, match=message):
        tiny_localizer()(frames, spectrogram)


def test_a_converted_official_checkpoint_gives_the_original_maps(tmp_path):
    reference = official_checkpoint(tmp_path / "fnac.pth")
    image, audio = torch.randn(2, 3, 224, 224), torch.randn(2, 1, 257, 200)

    convert_command([str(tmp_path / "fnac.pth"), str(tmp_path / "out"), "--sample-rate", "22050"])
    model = AVSSLLocalizer.from_pretrained(tmp_path / "out").eval()

    with torch.no_grad():
        torch.testing.assert_close(model(image, audio).maps, reference(image, audio), rtol=1e-4, atol=1e-5)
    assert model.config.embed_dim == 64
    assert model.config.audio_features == {
        "type": "log_spectrogram",
        "sample_rate": 22050,
        "window": 512,
        "overlap": 274,
        "seconds": 3.0,
        "mean": 0.0,
        "std": 12.0,
    }


def test_checkpoints_without_the_module_prefix_convert_too(tmp_path):
    official_checkpoint(tmp_path / "ezvsl.pth", prefix="")
    assert convert(tmp_path / "ezvsl.pth").config.embed_dim == 64


@pytest.mark.parametrize(
    "drop, extra, message",
    [
        ("audnet.layer2.0.bn1.running_var", None, r"missing keys \['audnet.layer2.0.bn1.running_var'\]"),
        (None, "module.head.weight", r"Unexpected keys \['head.weight'\]"),
    ],
    ids=["missing", "unexpected"],
)
def test_checkpoints_with_missing_or_unexpected_keys_fail_naming_them(tmp_path, drop, extra, message):
    official_checkpoint(tmp_path / "bad.pth", drop=drop, extra=extra)
    with pytest.raises(ValueError, match=message):
        convert(tmp_path / "bad.pth")


def test_a_checkpoint_that_needs_unpickling_code_is_refused(tmp_path):
    torch.save({"model": {"imgnet.conv1.weight": torch.zeros(1)}, "args": object()}, tmp_path / "pickled.pth")
    with pytest.raises(ValueError, match="not a weights-only checkpoint"):
        convert(tmp_path / "pickled.pth")


def test_the_localizer_saves_and_loads_through_the_auto_classes(tmp_path):
    from transformers import AutoConfig, AutoModel

    model = tiny_localizer().eval()
    model.save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), AVSSLLocalizerConfig)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    frames, spectrogram = torch.randn(2, 3, 64, 64), torch.randn(2, 64, 96)
    torch.testing.assert_close(loaded(frames, spectrogram).maps, model(frames, spectrogram).maps, rtol=0, atol=0)
