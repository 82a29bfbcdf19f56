"""transformers' own common model and config tests on AVSSL, as its model folders run them (modelled on VideoMAE's).

`ModelTesterMixin` and `ConfigTester` come from the installed transformers version's source distribution
(`transformers_common.py` fetches it). The tests AVSSL overrides say why in their docstring; the ones it skips say
why in the skip.
"""

import copy
import tempfile
import unittest

import torch
from parameterized import parameterized
from transformers import set_seed
from transformers.testing_utils import set_config_for_less_flaky_test, set_model_for_less_flaky_test

from modeling_avssl import AVSSLConfig, AVSSLForVideoClassification, AVSSLModel
from tiny import TINY_AST, TINY_VIDEOMAE
from transformers_common import common_tests


test_modeling_common, test_configuration_common = common_tests()
ModelTesterMixin = test_modeling_common.ModelTesterMixin
ConfigTester = test_configuration_common.ConfigTester
SDPA_PARAMETERIZATION = test_modeling_common.TEST_EAGER_MATCHES_SDPA_INFERENCE_PARAMETERIZATION
floats_tensor = test_modeling_common.floats_tensor
ids_tensor = test_modeling_common.ids_tensor


class AVSSLModelTester:
    """A tiny AVSSL: VideoMAE on 4x32x32 clips (1 + 8 tokens), AST on 64x32 fbank (2 + 8 tokens), 2 fusion layers."""

    def __init__(self, parent: unittest.TestCase, audio_visual: bool = True, batch_size: int = 4):
        self.parent = parent
        self.audio_visual = audio_visual
        self.batch_size = batch_size
        self.is_training = True
        self.num_labels = 3
        self.num_hidden_layers = 2
        self.num_attention_heads = 4
        self.hidden_size = 24 if audio_visual else TINY_VIDEOMAE["hidden_size"]
        self.video_seq_length = 1 + 2 * 2 * 2
        self.audio_seq_length = 2 + 2 * 4

    def get_config(self) -> AVSSLConfig:
        return AVSSLConfig(
            video_config=dict(TINY_VIDEOMAE),
            audio_config=dict(TINY_AST) if self.audio_visual else None,
            fusion_num_layers=self.num_hidden_layers,
            fusion_hidden_size=24,
            fusion_num_attention_heads=self.num_attention_heads,
            fusion_intermediate_size=48,
            num_labels=self.num_labels,
            attn_implementation="eager",
        )

    def prepare_config_and_inputs(self) -> tuple[AVSSLConfig, dict[str, torch.Tensor], torch.Tensor]:
        config = self.get_config()
        inputs = {"pixel_values": floats_tensor([self.batch_size, *config.video_input_shape])}
        if self.audio_visual:
            audio = config.audio_config
            inputs["input_values"] = floats_tensor([self.batch_size, audio.max_length, audio.num_mel_bins])
        return config, inputs, ids_tensor([self.batch_size], self.num_labels)

    def prepare_config_and_inputs_for_common(self) -> tuple[AVSSLConfig, dict[str, torch.Tensor]]:
        config, inputs, _ = self.prepare_config_and_inputs()
        return config, inputs

    def create_and_check_model(self, config: AVSSLConfig, inputs: dict[str, torch.Tensor], labels: torch.Tensor):
        model = AVSSLModel(config).eval()
        with torch.no_grad():
            result = model(**inputs)
        self.parent.assertEqual(result.pooler_output.shape, (self.batch_size, self.hidden_size))
        self.parent.assertEqual(result.video_embeds.shape, (self.batch_size, TINY_VIDEOMAE["hidden_size"]))

    def create_and_check_for_video_classification(
        self, config: AVSSLConfig, inputs: dict[str, torch.Tensor], labels: torch.Tensor
    ):
        model = AVSSLForVideoClassification(config).eval()
        with torch.no_grad():
            result = model(**inputs, labels=labels)
        self.parent.assertEqual(result.logits.shape, (self.batch_size, self.num_labels))
        self.parent.assertEqual(result.loss.shape, ())


class AVSSLModelTest(ModelTesterMixin, unittest.TestCase):
    """The audio-visual model."""

    all_model_classes = (AVSSLModel, AVSSLForVideoClassification)
    additional_model_inputs = ["input_values"]
    _is_composite = True
    audio_visual = True
    test_resize_embeddings = False

    def setUp(self):
        self.model_tester = AVSSLModelTester(self, audio_visual=self.audio_visual)
        self.config_tester = ConfigTester(
            self, config_class=AVSSLConfig, has_text_modality=False, fusion_hidden_size=24, fusion_num_layers=2
        )

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        """Labels for the classifier: transformers' mapping of video classifiers does not list remote-code models."""
        inputs_dict = copy.deepcopy(inputs_dict)
        if return_labels and model_class is AVSSLForVideoClassification:
            inputs_dict["labels"] = torch.zeros(self.model_tester.batch_size, dtype=torch.long)
        return inputs_dict

    def test_config(self):
        self.config_tester.run_common_tests()

    def test_model(self):
        self.model_tester.create_and_check_model(*self.model_tester.prepare_config_and_inputs())

    def test_for_video_classification(self):
        self.model_tester.create_and_check_for_video_classification(*self.model_tester.prepare_config_and_inputs())

    def test_attention_outputs(self):
        """The mixin reads `outputs.attentions`; AVSSL returns one tuple per encoder and one for the fusion, as
        CLIP-style multi-encoder models do. Same checks: counts, shapes, from the argument and from the config."""
        tester = self.model_tester
        expected = {"video_attentions": (tester.num_attention_heads, tester.video_seq_length, tester.video_seq_length)}
        if tester.audio_visual:
            expected["audio_attentions"] = (
                tester.num_attention_heads,
                tester.audio_seq_length,
                tester.audio_seq_length,
            )
            expected["fusion_attentions"] = (tester.num_attention_heads, 2, 2)
        self._check_outputs_per_part("output_attentions", expected, tester.num_hidden_layers)

    def test_hidden_states_output(self):
        """The mixin reads `outputs.hidden_states`; AVSSL returns `video_hidden_states` and `audio_hidden_states`.
        Same checks: the embeddings and one per layer, their shapes, from the argument and from the config."""
        tester = self.model_tester
        expected = {"video_hidden_states": (tester.video_seq_length, TINY_VIDEOMAE["hidden_size"])}
        if tester.audio_visual:
            expected["audio_hidden_states"] = (tester.audio_seq_length, TINY_AST["hidden_size"])
        self._check_outputs_per_part("output_hidden_states", expected, tester.num_hidden_layers + 1)

    def _check_outputs_per_part(self, flag: str, expected: dict[str, tuple[int, ...]], count: int) -> None:
        """Asked for by `flag` as an argument and then in the config, every output named in `expected` has `count`
        tensors, the first ending in the `expected` shape."""
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            for from_config in (False, True):
                setattr(config, flag, from_config)
                model = model_class(config).eval()
                with torch.no_grad():
                    outputs = model(**inputs_dict, **({} if from_config else {flag: True}))
                for name, shape in expected.items():
                    tensors = getattr(outputs, name)
                    self.assertEqual(len(tensors), count, name)
                    self.assertEqual(tuple(tensors[0].shape[-len(shape) :]), shape, name)

    def test_training(self):
        """The mixin leaves base models out by looking them up in transformers' own mapping, which cannot list a
        remote-code model: run it on the classifier, the class with a loss."""
        self.all_model_classes = (AVSSLForVideoClassification,)
        super().test_training()

    def check_training_gradient_checkpointing(self, gradient_checkpointing_kwargs=None):
        """As `test_training`: the classifier, the class with a loss."""
        self.all_model_classes = (AVSSLForVideoClassification,)
        super().check_training_gradient_checkpointing(gradient_checkpointing_kwargs)

    def test_can_capture_specific_layers_hidden_states(self):
        """The mixin reads `outputs.hidden_states`. Same check on both encoders' hidden states: a list of indices
        keeps those (every other one and the last) where they were and `None` elsewhere."""
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        names = (
            ["video_hidden_states", "audio_hidden_states"]
            if self.model_tester.audio_visual
            else ["video_hidden_states"]
        )
        for model_class in self.all_model_classes:
            model = model_class(config).eval()
            with torch.no_grad():
                everything = model(**inputs_dict, output_hidden_states=True)
                count = len(everything.video_hidden_states)
                indices = [*range(0, count, 2), -1]
                captured = model(**inputs_dict, output_hidden_states=indices)
            kept = {i % count for i in indices}
            for name in names:
                self.assertEqual(len(getattr(captured, name)), count, name)
                for i, (state, full) in enumerate(zip(getattr(captured, name), getattr(everything, name))):
                    if i in kept:
                        torch.testing.assert_close(state, full)
                    else:
                        self.assertIsNone(state)

    @unittest.skip(reason="AVSSL is composite; test_sdpa_can_dispatch_composite_models checks its dispatch")
    def test_sdpa_can_dispatch_non_composite_models(self):
        pass

    def test_retain_grad_hidden_states_attentions(self):
        """The mixin reads `outputs.hidden_states` and `outputs.attentions`. Same check on AVSSL's names: gradients
        reach the first hidden state and attention of each encoder and the fusion's first attention."""
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        config.output_hidden_states = config.output_attentions = True
        model = AVSSLForVideoClassification(config)
        outputs = model(**inputs_dict)
        names = ["video_hidden_states", "video_attentions"]
        if self.model_tester.audio_visual:
            names += ["audio_hidden_states", "audio_attentions", "fusion_attentions"]
        kept = {name: getattr(outputs, name)[0] for name in names}
        for tensor in kept.values():
            tensor.retain_grad()
        outputs.logits.flatten()[0].backward()
        for name, tensor in kept.items():
            self.assertIsNotNone(tensor.grad, name)

    @parameterized.expand(SDPA_PARAMETERIZATION)
    def test_eager_matches_sdpa_inference(
        self, name, dtype, padding_side, use_attention_mask, output_attentions, enable_kernels
    ):
        """The mixin compares `hidden_states[-1]`, which AVSSL's outputs do not have. Same comparison on every
        output of both model classes, with the mixin's seed, layer-norm epsilon and tolerances; AVSSL takes no
        attention mask, so the padded variants run the same inputs. With `output_attentions`, SDPA refuses and
        says to use eager."""
        torch_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
        atol, rtol = {"fp32": (1e-6, 1e-4), "fp16": (5e-3, 5e-3), "bf16": (1e-2, 1e-2)}[dtype]
        for model_class in self.all_model_classes:
            set_seed(42)
            config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
            inputs_dict = {key: value.to(torch_dtype) for key, value in inputs_dict.items()}
            set_config_for_less_flaky_test(config)
            with tempfile.TemporaryDirectory() as folder:
                model_class(config).save_pretrained(folder)
                sdpa = model_class.from_pretrained(folder, dtype=torch_dtype, attn_implementation="sdpa").eval()
                eager = model_class.from_pretrained(folder, dtype=torch_dtype, attn_implementation="eager").eval()
            set_model_for_less_flaky_test(sdpa)
            set_model_for_less_flaky_test(eager)
            with torch.no_grad(), torch.nn.attention.sdpa_kernel(self._sdpa_backends(enable_kernels)):
                if output_attentions:
                    self.assertIsNotNone(eager(**inputs_dict, output_attentions=True).video_attentions)
                    with self.assertRaisesRegex(ValueError, "needs eager attention"):
                        sdpa(**inputs_dict, output_attentions=True)
                    continue
                eager_outputs, sdpa_outputs = eager(**inputs_dict), sdpa(**inputs_dict)
            for key, value in eager_outputs.items():
                magnitude = max(value.abs().amax().item(), 1.0)
                torch.testing.assert_close(sdpa_outputs[key], value, atol=atol * magnitude, rtol=rtol, msg=key)

    def test_sdpa_can_dispatch_composite_models(self):
        """The mixin looks for a vision tower and a language model; AVSSL's sub-models are a video encoder, an audio
        encoder and its own fusion. Same check: SDPA by default in each, eager in each when asked, and no attention
        module of the eager model left on SDPA."""
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        config._attn_implementation = None
        for model_class in self.all_model_classes:
            with tempfile.TemporaryDirectory() as folder:
                model_class(config).save_pretrained(folder)
                loaded = {
                    name: model_class.from_pretrained(folder, **kwargs)
                    for name, kwargs in {"sdpa": {}, "eager": {"attn_implementation": "eager"}}.items()
                }
            for implementation, model in loaded.items():
                parts = [model.config, model.config.video_config]
                parts += [model.config.audio_config] if self.model_tester.audio_visual else []
                self.assertEqual([part._attn_implementation for part in parts], [implementation] * len(parts))
            for name, module in loaded["eager"].named_modules():
                if type(module).__name__.endswith("Attention") and hasattr(module, "config"):
                    self.assertEqual(module.config._attn_implementation, "eager", name)

    @staticmethod
    def _sdpa_backends(enable_kernels: bool) -> list:
        backends = torch.nn.attention.SDPBackend
        fused = [backends.FLASH_ATTENTION, backends.EFFICIENT_ATTENTION] if enable_kernels else []
        return [backends.MATH, *fused]

    def test_torch_export(self):
        """The source distribution lacks the export mixin; this is its check: `torch.export` of each model class
        runs and its program gives the eager outputs."""
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config).eval()
            with torch.no_grad():
                eager = model(**inputs_dict)
                program = torch.export.export(model, args=(), kwargs=inputs_dict, strict=False)
                exported = program.module()(**inputs_dict)
            for name, value in eager.items():
                torch.testing.assert_close(exported[name], value, msg=name)

    def test_model_get_set_embeddings(self):
        """VideoMAE's version of this test: the input embedding is the video patch embedding, there is no output
        embedding."""
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            self.assertIsInstance(model.get_input_embeddings(), torch.nn.Module)
            self.assertIsNone(model.get_output_embeddings())

    @unittest.skip(reason="AVSSL takes video frames and audio features, not inputs_embeds")
    def test_inputs_embeds(self):
        pass

    @unittest.skip(reason="AVSSL takes video frames and audio features, not input_ids or inputs_embeds")
    def test_inputs_embeds_matches_input_ids(self):
        pass


class AVSSLVideoOnlyModelTest(AVSSLModelTest):
    """The video-only model of the paper's Table 2 (`audio_config=None`)."""

    audio_visual = False
