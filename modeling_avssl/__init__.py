"""AVSSL: semi-supervised audio-visual video action recognition with audio-source-localization-guided mixup.

Importing this package registers the AVSSL classes with the transformers Auto classes and marks them for remote
code, so that `save_pretrained` writes an `auto_map`, the model files and the `video-classification` pipeline
(`pipeline_avssl.py` with its decoder) beside the weights.
"""

from transformers import AutoConfig, AutoModel, AutoModelForVideoClassification, AutoProcessor

from .configuration_avssl import AVSSLConfig, AVSSLLocalizerConfig
from .localizer.modeling_localizer import AVSSLLocalizer, AVSSLLocalizerOutput
from .modeling_avssl import (
    AVSSLForVideoClassification,
    AVSSLModel,
    AVSSLModelOutput,
    AVSSLPreTrainedModel,
    AVSSLVideoClassifierOutput,
)
from .pipeline_avssl import AVSSLVideoClassificationPipeline
from .processing_avssl import AVSSLProcessor


AutoConfig.register(AVSSLConfig.model_type, AVSSLConfig)
AutoModel.register(AVSSLConfig, AVSSLModel)
AutoModelForVideoClassification.register(AVSSLConfig, AVSSLForVideoClassification)
AutoProcessor.register(AVSSLConfig, AVSSLProcessor)
AutoConfig.register(AVSSLLocalizerConfig.model_type, AVSSLLocalizerConfig)
AutoModel.register(AVSSLLocalizerConfig, AVSSLLocalizer)
AVSSLConfig.register_for_auto_class()
AVSSLModel.register_for_auto_class("AutoModel")
AVSSLForVideoClassification.register_for_auto_class("AutoModelForVideoClassification")
AVSSLProcessor.register_for_auto_class()

__all__ = [
    "AVSSLConfig",
    "AVSSLForVideoClassification",
    "AVSSLLocalizer",
    "AVSSLLocalizerConfig",
    "AVSSLLocalizerOutput",
    "AVSSLModel",
    "AVSSLModelOutput",
    "AVSSLPreTrainedModel",
    "AVSSLProcessor",
    "AVSSLVideoClassificationPipeline",
    "AVSSLVideoClassifierOutput",
]
