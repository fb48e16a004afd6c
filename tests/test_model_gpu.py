"""CUDA precision and batching on the plus_large random model. Skipped only where no CUDA device exists."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml

from emostudio.model.checkpoint import _package_text
from emostudio.model.encoder import Emotion2vecEncoder, randomize_weights_

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


def waves() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for seconds in (0.8, 3.7, 12.3):
        t = np.arange(int(seconds * 16000)) / 16000
        out.append(
            (0.1 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
        )
    return out


@pytest.fixture(scope="module")
def plus_large_cuda():
    conf = copy.deepcopy(yaml.safe_load(_package_text("plus_large.yaml"))["model_conf"])
    return randomize_weights_(Emotion2vecEncoder.from_config(conf, 9), seed=1).to("cuda")


def test_bf16_probabilities_within_002_of_fp32(plus_large_cuda):
    fp32 = plus_large_cuda.encode(waves())
    bf16 = copy.deepcopy(plus_large_cuda).to(torch.bfloat16).encode(waves())
    p32, p16 = fp32.logits.softmax(-1), bf16.logits.softmax(-1)
    assert bf16.features.dtype == torch.float32 and bf16.features.device.type == "cpu"
    assert (p32 - p16).abs().max().item() <= 0.02


def test_fp16_probabilities_within_002_of_fp32(plus_large_cuda):
    fp32 = plus_large_cuda.encode(waves())
    fp16 = copy.deepcopy(plus_large_cuda).half().encode(waves())
    assert torch.isfinite(fp16.features).all()
    assert (fp32.logits.softmax(-1) - fp16.logits.softmax(-1)).abs().max().item() <= 0.02


@pytest.fixture
def exact_fp32():
    """cuDNN convs default to TF32, whose algorithm choice varies with batch shape; compare in true fp32."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def test_padded_cuda_batch_equals_one_by_one(plus_large_cuda, exact_fp32):
    ws = waves()
    batch = plus_large_cuda.encode(ws)
    for i, w in enumerate(ws):
        one = plus_large_cuda.encode([w])
        n = int(one.frame_lengths[0])
        assert n == int(batch.frame_lengths[i])
        assert (batch.features[i, :n] - one.features[0]).abs().max().item() <= 1e-4
        assert (batch.logits[i] - one.logits[0]).abs().max().item() <= 1e-4
