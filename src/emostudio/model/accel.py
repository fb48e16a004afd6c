"""CPU acceleration of a loaded emotion2vec model: int8 dynamic quantisation, bf16, thread settings.

fp32 on CPU is already close to the machine's FMA peak for this network (about 22 GFLOP per audio second at
10 s clips, 70 % of it in Linear layers and 22 % in the conv front-end), so the only large CPU gain is fewer
bits per multiply:

- "int8": every transformer Linear (qkv, attention output, MLP) and the 512-channel convs of the front-end
  (as unfold + Linear) run as dynamically quantised int8 matmuls (fbgemm: per-tensor activation scale taken
  on each call, per-channel weight scales). Norms, softmax, GELU, the positional convs, attention itself
  and pooling stay float32. Probabilities move by about 1e-3 (see benchmarks/RESULTS.md for the measured drift).
- "bf16": weights and activations in bfloat16 with float32 norms and softmax. Only fast on CPUs with
  AVX512-BF16 or AMX; on AVX2-only CPUs it is emulated and many times slower than fp32.
- "fp32": unchanged numerics; only the thread count is set.
"""

from __future__ import annotations

import dataclasses
import os
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from emostudio.errors import ModelError
from emostudio.model.checkpoint import LoadedModel
from emostudio.model.encoder import ConvLayer, Emotion2vecEncoder

CPU_PRECISIONS = ("fp32", "bf16", "int8")
DEFAULT_CPU_PRECISION = "fp32"


class UnfoldConv1d(nn.Module):
    """A bias-free, unpadded Conv1d as unfold + Linear, so it can be int8-quantised like any Linear.

    (batch, in, samples) -> (batch, out, frames); frames = (samples - kernel) // stride + 1.
    """

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        if conv.padding not in (0, (0,)) or conv.groups != 1 or conv.dilation != (1,):
            raise ModelError("UnfoldConv1d: only unpadded, ungrouped, undilated convs are supported")
        self.kernel, self.stride = conv.kernel_size[0], conv.stride[0]
        out_ch, in_ch, k = conv.weight.shape
        self.linear = nn.Linear(in_ch * k, out_ch, bias=conv.bias is not None)
        with torch.no_grad():
            self.linear.weight.copy_(conv.weight.reshape(out_ch, in_ch * k))  # (in, k) order = unfold's
            if conv.bias is not None:
                self.linear.bias.copy_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, _ = x.shape
        cols = x.transpose(1, 2).unfold(1, self.kernel, self.stride)  # (batch, frames, in, kernel)
        y = self.linear(cols.reshape(b, cols.size(1), c * self.kernel))  # (batch, frames, out)
        return y.transpose(1, 2)


def _check_cpu(loaded: LoadedModel) -> None:
    if loaded.device.type != "cpu":
        raise ModelError(f"optimise_for_cpu: the model is on {loaded.device}; load it with device='cpu'")
    if loaded.dtype != torch.float32:
        raise ModelError(f"optimise_for_cpu: the model is {loaded.dtype}; load it in fp32 (dtype=None)")


def quantize_int8_(encoder: Emotion2vecEncoder, min_in_channels: int = 64) -> Emotion2vecEncoder:
    """In place: int8 dynamic quantisation of the block Linears and of the front-end convs with at least
    `min_in_channels` input channels (the first conv, 1 input channel, stays fp32). Returns the encoder."""
    quantize = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice (moving to torchao)
        for layer in encoder.conv_layers:
            assert isinstance(layer, ConvLayer)
            if isinstance(layer.conv, nn.Conv1d) and layer.conv.in_channels >= min_in_channels:
                layer.conv = quantize(UnfoldConv1d(layer.conv), {nn.Linear}, dtype=torch.qint8)
        for blk in [*encoder.prenet, *encoder.blocks]:
            quantize(blk, {nn.Linear}, dtype=torch.qint8, inplace=True)
    return encoder


def set_threads(threads: int | None) -> int:
    """Intra-op threads for torch (None: one per available core). Returns the count in effect."""
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def optimise_for_cpu(
    loaded: LoadedModel, precision: str = DEFAULT_CPU_PRECISION, threads: int | None = None
) -> LoadedModel:
    """A CPU model set up for speed: precision "fp32" | "int8" | "bf16" (see the module docstring) and the
    thread count. Changes `loaded.encoder` in place and returns a LoadedModel describing it; the precision is
    recorded in `arch["cpu_precision"]`. Raises ModelError for a GPU or non-fp32 model or an unknown precision."""
    if precision not in CPU_PRECISIONS:
        raise ModelError(f"precision {precision!r}: choose one of {', '.join(CPU_PRECISIONS)}")
    _check_cpu(loaded)
    n = set_threads(threads)
    arch = {**loaded.arch, "cpu_precision": precision, "cpu_threads": n}
    if precision == "fp32":
        return dataclasses.replace(loaded, arch=arch)
    if precision == "int8":
        quantize_int8_(loaded.encoder)
        return dataclasses.replace(loaded, arch=arch)
    encoder = loaded.encoder.to(torch.bfloat16)
    return dataclasses.replace(loaded, encoder=encoder, dtype=torch.bfloat16, arch=arch)


def probability_drift(reference: LoadedModel, other: LoadedModel, waveforms: list) -> float:
    """Largest absolute difference of utterance probabilities (softmax over the model's logits) between two
    models over the same 16 kHz waveforms."""
    a = reference.encoder.encode(waveforms).logits
    b = other.encoder.encode(waveforms).logits
    return float((F.softmax(a, -1) - F.softmax(b, -1)).abs().max())
