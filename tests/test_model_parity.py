"""Native encoder vs FunASR 1.4.16's own Emotion2vec on the same re-randomised weights (fp32, CPU)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml
from _funasr_ref import build_reference, reference_inference_feats, reference_outputs

from emostudio.model.accel import ChunkedFrontend, optimise_for_cpu
from emostudio.model.checkpoint import LoadedModel, _package_text
from emostudio.model.encoder import Emotion2vecEncoder, EncoderOutput, num_frames, randomize_weights_

pytestmark = pytest.mark.integration

TOL = 1e-4


def waveform(seconds: float, seed: int) -> np.ndarray:
    """Speech-like test signal: noise shaped by a slow syllable-rate envelope plus a gliding tone, 16 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t + rng.uniform(0, 6)) ** 2
    tone = np.sin(2 * np.pi * (150 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)
    return (0.1 * env * (rng.standard_normal(t.size) + 2 * tone)).astype(np.float32)


def model_conf(arch: str, **audio) -> dict:
    conf = copy.deepcopy(yaml.safe_load(_package_text(f"{arch}.yaml"))["model_conf"])
    conf["modalities"]["audio"].update(audio)
    return conf


def pair(conf: dict, seed: int):
    native = randomize_weights_(Emotion2vecEncoder.from_config(conf, 9), seed)
    return native, build_reference(conf, native)


def native_outputs(native, waves, batched: bool) -> EncoderOutput:
    """One padded batch, or one call per waveform re-padded into a batch."""
    if batched:
        return native.encode(waves)
    outs = [native.encode([w]) for w in waves]
    t = max(o.features.shape[1] for o in outs)
    return EncoderOutput(
        features=torch.cat(
            [torch.nn.functional.pad(o.features, (0, 0, 0, t - o.features.shape[1])) for o in outs]
        ),
        frame_lengths=torch.cat([o.frame_lengths for o in outs]),
        embeddings=torch.cat([o.embeddings for o in outs]),
        logits=torch.cat([o.logits for o in outs]),
        frame_logits=None,
    )


def check_parity(native, ref, waves, modes=(True,)) -> list[EncoderOutput]:
    """Native outputs (padded batch and/or one by one) equal FunASR's one-by-one outputs to TOL."""
    expected = [reference_outputs(ref, w) for w in waves]
    results = []
    for batched in modes:
        out = native_outputs(native, waves, batched)
        for i, (w, (feats, logits)) in enumerate(zip(waves, expected, strict=True)):
            n = int(out.frame_lengths[i])
            assert n == feats.shape[0] == num_frames(w.size, native.config.feature_layers)
            assert (out.features[i, :n] - feats).abs().max().item() <= TOL
            assert (out.logits[i] - logits).abs().max().item() <= TOL
            assert (out.embeddings[i] - feats.mean(0)).abs().max().item() <= TOL
            if n < out.features.shape[1]:
                assert out.features[i, n:].abs().max().item() == 0.0
        results.append(out)
    return results


@pytest.fixture(scope="module")
def plus_large():
    return pair(model_conf("plus_large"), seed=1)


@pytest.fixture(scope="module")
def base():
    return pair(model_conf("base"), seed=2)


def test_plus_large_matches_funasr(plus_large):
    native, ref = plus_large
    assert sum(p.numel() for p in native.parameters()) == 162_140_185  # notes §3d, without the decoder
    check_parity(native, ref, [waveform(0.7, 0), waveform(2.3, 1), waveform(20.1, 2)], modes=(False,))


def test_base_matches_funasr(base):
    native, ref = base
    assert sum(p.numel() for p in native.parameters()) == 93_178_133
    check_parity(native, ref, [waveform(0.45, 3), waveform(1.9, 4), waveform(20.05, 5)], modes=(False,))


@pytest.mark.parametrize("arch", ["plus_large", "base"])
def test_cpu_fast_path_matches_funasr(arch, request):
    """What `Recognizer` runs on CPU by default (accel.optimise_for_cpu "fp32": the chunked channels-last
    front-end) still equals FunASR, one by one and in a padded batch; 20 s clips cross many chunk edges."""
    native, ref = request.getfixturevalue(arch)
    loaded = LoadedModel(copy.deepcopy(native), [], [], "t", "memory", True)
    fast = optimise_for_cpu(loaded, "fp32", threads=torch.get_num_threads()).encoder
    assert isinstance(fast.conv_layers[0], ChunkedFrontend)
    check_parity(fast, ref, [waveform(2.1, 9), waveform(0.5, 10), waveform(20.3, 11)], (True, False))


def test_base_padded_batch_matches_funasr_and_one_by_one(base):
    native, ref = base
    batch, single = check_parity(
        native, ref, [waveform(2.2, 6), waveform(0.6, 7), waveform(1.3, 8)], (True, False)
    )
    for i in range(3):
        n = int(single.frame_lengths[i])
        assert (batch.features[i, :n] - single.features[i, :n]).abs().max().item() <= TOL
        assert (batch.logits[i] - single.logits[i]).abs().max().item() <= TOL


@pytest.mark.parametrize(
    "audio",
    [
        {},
        {"extractor_mode": "default"},  # GroupNorm on the first conv: statistics over valid frames only
        {"conv_pos_pre_ln": True, "learned_alibi_scale_per_layer": True, "num_alibi_heads": 2},
    ],
    ids=["layer_norm", "default_mode", "pre_ln_per_layer_alibi"],
)
def test_tiny_variants_match_funasr_and_batch_equals_one_by_one(audio):
    native, ref = pair(model_conf("tiny", **audio), seed=3)
    waves = [waveform(s, 10 + i) for i, s in enumerate((0.3, 1.7, 0.026, 6.2))]
    batch, single = check_parity(native, ref, waves, modes=(True, False))
    for i in range(len(waves)):
        n = int(single.frame_lengths[i])
        assert (batch.features[i, :n] - single.features[i, :n]).abs().max().item() <= TOL
        assert (batch.logits[i] - single.logits[i]).abs().max().item() <= TOL


def test_tiny_matches_funasr_inference_entry_point():
    native, ref = pair(model_conf("tiny"), seed=4)
    w = waveform(2.3, 7)
    feats = reference_inference_feats(ref, w)
    out = native.encode([w])
    assert feats.shape == tuple(out.features[0].shape)
    assert np.abs(out.features[0].numpy() - feats).max() <= TOL


def test_pre_ln_blocks_match_funasr():
    conf = model_conf("tiny")
    conf["layer_norm_first"] = True
    native, ref = pair(conf, seed=5)
    check_parity(native, ref, [waveform(1.1, 8), waveform(2.9, 9)])  # padded batch


def test_frame_logits_average_to_utterance_logits(base):
    native, _ = base
    out = native.encode([waveform(1.3, 11), waveform(0.6, 12)])
    mean = out.frame_logits.sum(1) / out.frame_lengths[:, None]
    assert torch.allclose(mean, out.logits, atol=1e-5)
    assert out.frame_logits[1, int(out.frame_lengths[1]) :].abs().max().item() == 0.0
