"""emotion2vec models: the native encoder, checkpoint loading and the 9 labels."""

from emostudio.model.checkpoint import (
    DEFAULT_MODEL,
    CheckpointError,
    LoadedModel,
    ModelNotFoundError,
    convert,
    find_model,
    init_random,
    load_model,
    model_info,
)
from emostudio.model.encoder import (
    FRAME_RATE_HZ,
    SAMPLE_RATE_HZ,
    Emotion2vecEncoder,
    EncoderConfig,
    EncoderOutput,
    num_frames,
)

__all__ = [
    "DEFAULT_MODEL",
    "FRAME_RATE_HZ",
    "SAMPLE_RATE_HZ",
    "CheckpointError",
    "Emotion2vecEncoder",
    "EncoderConfig",
    "EncoderOutput",
    "LoadedModel",
    "ModelNotFoundError",
    "convert",
    "find_model",
    "init_random",
    "load_model",
    "model_info",
    "num_frames",
]
