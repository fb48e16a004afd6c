"""Reference side of the parity tests: FunASR 1.4.16's own `Emotion2vec`, built from a config, weights copied
from a native encoder, run exactly as `Emotion2vec.inference` runs one utterance."""

from __future__ import annotations

import copy
import io
import logging
import os
from contextlib import redirect_stdout

import numpy as np
import torch
import torch.nn.functional as F

from emostudio.model.encoder import Emotion2vecEncoder
from emostudio.model.weights import funasr_names


def funasr_class():
    """Import FunASR's Emotion2vec (its import chain prints notices about ffmpeg etc.; keep them quiet)."""
    os.environ.setdefault("FUNASR_DISABLE_UPDATE", "1")
    logging.getLogger("funasr").setLevel(logging.ERROR)
    with redirect_stdout(io.StringIO()):
        from funasr.models.emotion2vec.model import Emotion2vec
    return Emotion2vec


def build_reference(model_conf: dict, native: Emotion2vecEncoder) -> torch.nn.Module:
    """FunASR's Emotion2vec for `model_conf` (decoder dropped: pretraining only), every tensor copied from
    `native` by name; any tensor that does not pair up fails loudly (strict load)."""
    conf = copy.deepcopy(model_conf)
    conf["modalities"]["audio"]["decoder"] = None
    ref = funasr_class()(model_conf=conf, vocab_size=native.config.vocab_size).eval()
    names = funasr_names(native)
    state = {names[n]: p.detach().clone() for n, p in native.named_parameters()}
    ref.load_state_dict(state, strict=True)
    return ref


def reference_outputs(ref: torch.nn.Module, wav: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(frame features (frames, dim), utterance logits (vocab,) or None) as FunASR's `inference` computes them:
    F.layer_norm over the whole waveform if cfg.normalize, extract_features, then proj(mean over frames)."""
    with torch.no_grad():
        source = torch.from_numpy(wav)
        if ref.cfg.normalize:
            source = F.layer_norm(source, source.shape)
        x = ref.extract_features(source.view(1, -1), padding_mask=None)["x"]
        logits = ref.proj(x.mean(dim=1))[0] if ref.proj is not None else None
    return x[0], logits


def reference_inference_feats(ref: torch.nn.Module, wav: np.ndarray) -> np.ndarray:
    """Frame features through FunASR's own `inference(...)` entry point (loading, normalisation and all)."""
    with torch.no_grad(), redirect_stdout(io.StringIO()):
        results, _ = ref.inference([wav], key=["k"], device="cpu", tokenizer=None, granularity="frame")
    return results[0]["feats"]
