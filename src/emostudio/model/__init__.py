"""emotion2vec models: the native encoder, where weights are found, checkpoint loading and the 9 labels.

    labels.py      the 9 classes (torch-free: importing labels never imports torch)
    hub.py         where weights are looked for (folders, ModelScope / Hugging Face caches, download)
    checkpoint.py  model folders: find, load (strict and safe), convert and write checkpoints
    weights.py     the weights themselves: safe reading, FunASR tensor names, sha256
    encoder.py     the network (batched, masked), nothing about files
    accel.py       CPU fast paths (chunked front-end, int8) and bf16
    lanes.py       model batches planned by length and run side by side on CPU lanes

Names below are imported on first use, so `import emostudio.model.labels` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_LAZY = {
    "DEFAULT_MODEL": "emostudio.model.hub",
    "ModelNotFoundError": "emostudio.model.hub",
    "find_model": "emostudio.model.hub",
    "CheckpointError": "emostudio.model.checkpoint",
    "LoadedModel": "emostudio.model.checkpoint",
    "convert": "emostudio.model.checkpoint",
    "init_random": "emostudio.model.checkpoint",
    "load_model": "emostudio.model.checkpoint",
    "model_info": "emostudio.model.checkpoint",
    "FRAME_RATE_HZ": "emostudio.model.encoder",
    "SAMPLE_RATE_HZ": "emostudio.model.encoder",
    "Emotion2vecEncoder": "emostudio.model.encoder",
    "EncoderConfig": "emostudio.model.encoder",
    "EncoderOutput": "emostudio.model.encoder",
    "num_frames": "emostudio.model.encoder",
}
__all__ = [
    "CheckpointError",
    "DEFAULT_MODEL",
    "Emotion2vecEncoder",
    "EncoderConfig",
    "EncoderOutput",
    "FRAME_RATE_HZ",
    "LoadedModel",
    "ModelNotFoundError",
    "SAMPLE_RATE_HZ",
    "convert",
    "find_model",
    "init_random",
    "load_model",
    "model_info",
    "num_frames",
]

if TYPE_CHECKING:
    from emostudio.model.checkpoint import (
        CheckpointError,
        LoadedModel,
        convert,
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
    from emostudio.model.hub import DEFAULT_MODEL, ModelNotFoundError, find_model


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emostudio.model' has no attribute {name!r}")
