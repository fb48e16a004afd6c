"""CPU acceleration: the unfold conv is exact, int8 stays close to fp32, bad requests get typed errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from emostudio.errors import ModelError
from emostudio.model.accel import (
    ChannelsLastConvLayer,
    ChunkedFrontend,
    channels_last_frontend_,
    chunk_frontend_,
    optimise_for_cpu,
    probability_drift,
    quantize_int8_,
    set_threads,
)
from emostudio.model.checkpoint import load_model
from emostudio.model.encoder import ConvLayer

pytestmark = pytest.mark.unit


def waves(seconds=(0.5, 1.3, 2.0)) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    out = []
    for s in seconds:
        t = np.arange(int(s * 16000)) / 16000
        out.append(
            (0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
        )
    return out


@pytest.mark.parametrize("c_in,k,s", [(8, 3, 2), (8, 2, 2), (1, 10, 5)])
def test_channels_last_conv_layer_equals_conv_layer(c_in, k, s):
    torch.manual_seed(0)
    layer = ConvLayer(c_in, 16, k, s, "layer")
    with torch.no_grad():
        layer.norm.weight.normal_(1, 0.1)
    x, lengths = torch.randn(2, c_in, 101), torch.tensor([101, 77])
    want, want_len = layer(x, lengths)
    got, got_len = ChannelsLastConvLayer(layer)(x, lengths)
    assert got.shape == want.shape and torch.equal(got_len, want_len)
    assert torch.allclose(got, want, atol=1e-5)


def test_channels_last_frontend_keeps_outputs(tiny_model_dir):
    ref = load_model(str(tiny_model_dir), device="cpu")
    fast = load_model(str(tiny_model_dir), device="cpu")
    channels_last_frontend_(fast.encoder)
    assert all(isinstance(layer, ChannelsLastConvLayer) for layer in fast.encoder.conv_layers)
    a, b = ref.encoder.encode(waves()), fast.encoder.encode(waves())
    assert (a.features - b.features).abs().max() < 1e-4 and (a.logits - b.logits).abs().max() < 1e-5


@pytest.mark.parametrize("chunk_frames", [1, 3, 10_000])
def test_chunked_frontend_equals_one_pass(tiny_model_dir, chunk_frames):
    """Chunks overlap by the receptive field, so every frame (at chunk edges too, and in a padded batch)
    is the one-pass frame up to float rounding."""
    ref = load_model(str(tiny_model_dir), device="cpu")
    fast = load_model(str(tiny_model_dir), device="cpu")
    chunk_frontend_(fast.encoder, chunk_frames)
    chunk_frontend_(fast.encoder, chunk_frames)  # a second call finds it chunked already
    (front,) = fast.encoder.conv_layers
    assert isinstance(front, ChunkedFrontend) and front.hop == 320 and front.field == 400
    for batch in (waves(), waves((0.7,))):
        a, b = ref.encoder.encode(batch), fast.encoder.encode(batch)
        assert torch.equal(a.frame_lengths, b.frame_lengths)
        assert (a.features - b.features).abs().max() < 1e-4 and (a.logits - b.logits).abs().max() < 1e-5


def test_chunked_frontend_refuses_bad_setup():
    with pytest.raises(ModelError, match="ChannelsLastConvLayer"):
        ChunkedFrontend([ConvLayer(1, 4, 10, 5, "layer")])
    with pytest.raises(ValueError, match="chunk_frames"):
        ChunkedFrontend([ChannelsLastConvLayer(ConvLayer(1, 4, 10, 5, "layer"))], chunk_frames=0)


def test_channels_last_refuses_channel_norm():
    with pytest.raises(ModelError, match="LayerNorm"):
        ChannelsLastConvLayer(ConvLayer(1, 4, 10, 5, "channel"))


def test_int8_quantises_linears_and_convs_and_stays_close(tiny_model_dir):
    ref = load_model(str(tiny_model_dir), device="cpu")
    fast = optimise_for_cpu(load_model(str(tiny_model_dir), device="cpu"), precision="int8", threads=1)
    assert fast.arch["cpu_precision"] == "int8" and fast.arch["cpu_threads"] == 1
    enc = fast.encoder
    qlinear = torch.ao.nn.quantized.dynamic.Linear
    assert isinstance(enc.blocks[0].attn.qkv, qlinear) and isinstance(enc.blocks[-1].mlp.fc2, qlinear)
    (front,) = enc.conv_layers  # int8 runs the front-end in chunks
    assert isinstance(front, ChunkedFrontend)
    assert type(front.layers[0].linear) is torch.nn.Linear  # 1 input channel: stays fp32
    for layer in front.layers[1:]:
        assert isinstance(layer, ChannelsLastConvLayer) and isinstance(layer.linear, qlinear)
    drift = probability_drift(ref, fast, waves())
    assert 0 < drift < 0.02
    a, b = ref.encoder.encode(waves()), enc.encode(waves())
    assert torch.equal(a.frame_lengths, b.frame_lengths)
    cos = torch.nn.functional.cosine_similarity(a.embeddings, b.embeddings, dim=-1)
    assert cos.min() > 0.98
    set_threads(None)


def test_fp32_chunks_the_frontend_and_keeps_the_numbers(tiny_model_dir):
    ref = load_model(str(tiny_model_dir), device="cpu")
    same = optimise_for_cpu(load_model(str(tiny_model_dir), device="cpu"), precision="fp32")
    (front,) = same.encoder.conv_layers
    assert isinstance(front, ChunkedFrontend) and same.arch["cpu_precision"] == "fp32"
    assert not any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in same.encoder.modules())
    assert probability_drift(ref, same, waves()) < 1e-6


def test_bf16_runs_with_small_drift(tiny_model_dir):
    ref = load_model(str(tiny_model_dir), device="cpu")
    bf = optimise_for_cpu(load_model(str(tiny_model_dir), device="cpu"), precision="bf16")
    assert bf.dtype == torch.bfloat16 and bf.encoder.feature_proj.weight.dtype == torch.bfloat16
    assert probability_drift(ref, bf, waves((1.0,))) < 0.05


def test_bad_requests_are_typed(tiny_model_dir):
    m = load_model(str(tiny_model_dir), device="cpu")
    with pytest.raises(ModelError, match="precision 'int4'"):
        optimise_for_cpu(m, precision="int4")
    with pytest.raises(ModelError, match="fp32"):
        optimise_for_cpu(dataclasses.replace(m, dtype=torch.bfloat16), precision="int8")
    with pytest.raises(ValueError, match="at least 1"):
        set_threads(0)
    quantize_int8_(m.encoder)
    quantize_int8_(m.encoder)  # a second call finds nothing left to convert
    assert probability_drift(load_model(str(tiny_model_dir), device="cpu"), m, waves((1.0,))) < 0.02
