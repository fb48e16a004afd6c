"""CPU acceleration of a loaded emotion2vec model: int8 dynamic quantisation, bf16, thread settings.

fp32 on CPU is already close to the machine's FMA peak for this network (about 22 GFLOP per audio second at
10 s clips, 70 % of it in Linear layers and 22 % in the conv front-end), so the only large CPU gain is fewer
bits per multiply:

- "int8": every transformer Linear (qkv, attention output, MLP) and the 512-channel convs of the front-end
  (as unfold + Linear) run as dynamically quantised int8 matmuls (fbgemm: per-tensor activation scale taken
  on each call, per-channel weight scales). Norms, softmax, GELU, the positional convs, attention itself
  and pooling stay float32. The front-end runs in chunks of 64 frames so its large activations stay in the
  CPU cache (ChunkedFrontend; about 14 % off a 10 s clip here). Probabilities move by about 1e-3 (see
  benchmarks/RESULTS.md for the measured drift).
- "bf16": weights and activations in bfloat16 with float32 norms and softmax. Only fast on CPUs with
  AVX512-BF16 or AMX; on AVX2-only CPUs it is emulated and many times slower than fp32.
- "fp32": the same numbers up to float rounding (probabilities within ~1e-7): only the chunked front-end
  (about 20 % off a 10 s clip) and the thread count. `Recognizer` uses this for every fp32 CPU model it loads.
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import math
import os
import sys
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from emostudio.errors import ModelError
from emostudio.model.checkpoint import LoadedModel
from emostudio.model.encoder import ConvLayer, Emotion2vecEncoder, LayerNorm32

CPU_PRECISIONS = ("fp32", "bf16", "int8")
DEFAULT_CPU_PRECISION = "fp32"


class ChannelsLastConvLayer(nn.Module):
    """A front-end ConvLayer (unpadded bias-free conv -> LayerNorm over channels -> GELU) computed as
    unfold + Linear on (batch, frames, channels) storage, so the norm and GELU need no transposed copies and
    the Linear can be int8-quantised. Takes and returns (batch, channels, frames) like ConvLayer; the returned
    tensor is a transposed view, which the next ChannelsLastConvLayer (and the feature norm) read for free."""

    def __init__(self, layer: ConvLayer):
        super().__init__()
        conv = layer.conv
        if not isinstance(layer.norm, LayerNorm32) or conv.groups != 1 or conv.padding not in (0, (0,)):
            raise ModelError(
                "ChannelsLastConvLayer: only ungrouped, unpadded convs with a LayerNorm are supported"
            )
        self.kernel, self.stride = layer.kernel, layer.stride
        out_ch, in_ch, k = conv.weight.shape
        self.linear = nn.Linear(k * in_ch, out_ch, bias=conv.bias is not None)
        with torch.no_grad():  # columns ordered (kernel tap, channel), as the unfolded input below
            self.linear.weight.copy_(conv.weight.permute(0, 2, 1).reshape(out_ch, k * in_ch))
            if conv.bias is not None:
                self.linear.bias.copy_(conv.bias)
        self.norm = layer.norm

    @property
    def in_channels(self) -> int:
        return self.linear.in_features // self.kernel

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, in, samples) -> (batch, out, frames); lengths: valid samples -> valid frames."""
        b, c, _ = x.shape
        cols = x.transpose(1, 2).unfold(1, self.kernel, self.stride)  # (batch, frames, in, kernel)
        cols = cols.transpose(2, 3).reshape(b, cols.size(1), self.kernel * c)  # free when stride == kernel
        y = F.gelu(self.norm(self.linear(cols)))  # (batch, frames, out), contiguous
        lengths = torch.div(lengths - self.kernel, self.stride, rounding_mode="floor") + 1
        return y.transpose(1, 2), lengths


def channels_last_frontend_(encoder: Emotion2vecEncoder) -> Emotion2vecEncoder:
    """In place: every front-end ConvLayer with a LayerNorm (extractor_mode `layer_norm`, all emotion2vec+
    models) becomes a ChannelsLastConvLayer. Same function, float32 rounding aside. Returns the encoder."""
    for i, layer in enumerate(encoder.conv_layers):
        if isinstance(layer, ConvLayer) and isinstance(layer.norm, LayerNorm32):
            encoder.conv_layers[i] = ChannelsLastConvLayer(layer)
    return encoder


class ChunkedFrontend(nn.Module):
    """The whole channels-last conv front-end run over `chunk_frames` output frames (50 Hz) at a time.

    The front-end's activations are large (a 10 s clip: 32 000 x 512 floats after the first conv, 64 MB)
    and its norms, GELUs and unfold copies are memory-bound; in chunks they stay in the CPU cache (at 10 s
    int8 on a 2-core EPYC the front-end went from about 390 to 250 ms). Each chunk reads the samples of its
    frames' receptive fields (overlapping its neighbours by receptive field - hop samples), so every frame is
    computed from the same samples as in one pass: fp32 results are equal up to float rounding; int8 takes
    its activation scale per chunk. With a batch, each chunk covers `chunk_frames // batch` frames (at least 8).
    Takes (batch, 1, samples) and returns (batch, channels, frames), a transposed view of channels-last
    storage, like a stack of ChannelsLastConvLayer."""

    def __init__(self, layers: list[ChannelsLastConvLayer], chunk_frames: int = 64):
        super().__init__()
        if not layers or not all(isinstance(layer, ChannelsLastConvLayer) for layer in layers):
            raise ModelError("ChunkedFrontend: every front-end layer must be a ChannelsLastConvLayer")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, not {chunk_frames}")
        self.layers = nn.ModuleList(layers)
        self.geometry = [(layer.kernel, layer.stride) for layer in layers]  # samples, per layer
        self.chunk_frames = int(chunk_frames)
        self.hop = math.prod(layer.stride for layer in layers)  # samples per output frame
        field = 1
        for layer in reversed(layers):
            field = (field - 1) * layer.stride + layer.kernel
        self.field = field  # samples per output frame's receptive field

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, 1, samples) -> (batch, channels, frames); lengths: valid samples -> valid frames."""
        b, n = x.size(0), x.size(-1)
        total = (n - self.field) // self.hop + 1 if n >= self.field else 0
        step = max(8, self.chunk_frames // b)
        out = None
        for f0 in range(0, total, step):
            f1 = min(total, f0 + step)
            y = x[:, :, f0 * self.hop : (f1 - 1) * self.hop + self.field]
            for layer in self.layers:
                y, _ = layer(y, lengths)
            if out is None:
                out = y.new_empty(b, total, y.size(1))
            out[:, f0:f1] = y.transpose(1, 2)
        if out is None:  # fewer samples than one receptive field: the plain layers say what is wrong
            for layer in self.layers:
                x, _ = layer(x, lengths)
            out = x.transpose(1, 2)
        for kernel, stride in self.geometry:
            lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
        return out.transpose(1, 2), lengths


def chunk_frontend_(encoder: Emotion2vecEncoder, chunk_frames: int = 64) -> Emotion2vecEncoder:
    """In place: the conv front-end becomes one ChunkedFrontend (made channels-last first). Models whose
    front-end cannot be channels-last (extractor_mode `default`) and already chunked ones are left as they
    are. Returns the encoder."""
    channels_last_frontend_(encoder)
    layers = [layer for layer in encoder.conv_layers if isinstance(layer, ChannelsLastConvLayer)]
    if len(layers) == len(encoder.conv_layers):
        encoder.conv_layers = nn.ModuleList([ChunkedFrontend(layers, chunk_frames)])
    return encoder


def _check_cpu(loaded: LoadedModel) -> None:
    if loaded.device.type != "cpu":
        raise ModelError(f"optimise_for_cpu: the model is on {loaded.device}; load it with device='cpu'")
    if loaded.dtype != torch.float32:
        raise ModelError(f"optimise_for_cpu: the model is {loaded.dtype}; load it in fp32 (dtype=None)")


def quantize_int8_(encoder: Emotion2vecEncoder, min_in_channels: int = 64) -> Emotion2vecEncoder:
    """In place: int8 dynamic quantisation of the block Linears and of the front-end convs with at least
    `min_in_channels` input channels (made channels-last first; the 1-channel first conv stays fp32).
    Returns the encoder."""
    channels_last_frontend_(encoder)
    quantize = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice (moving to torchao)
        chunked = [m for m in encoder.conv_layers if isinstance(m, ChunkedFrontend)]
        for layer in chunked[0].layers if chunked else encoder.conv_layers:
            if isinstance(layer, ChannelsLastConvLayer) and layer.in_channels >= min_in_channels:
                quantize(layer, {nn.Linear}, dtype=torch.qint8, inplace=True)
        for blk in [*encoder.prenet, *encoder.blocks]:
            quantize(blk, {nn.Linear}, dtype=torch.qint8, inplace=True)
    return encoder


def release_freed_memory() -> None:
    """Free what only the cyclic garbage collector would, and hand freed memory back to the OS where glibc holds
    on to it (malloc_trim; Linux with glibc only). After int8 quantisation of plus_large the replaced float32
    weights stayed resident: the process sat at 1.15 GB instead of 0.53 GB."""
    gc.collect()  # the replaced float32 modules sit in reference cycles until the cyclic collector runs
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        pass


def set_threads(threads: int | None) -> int:
    """Intra-op threads for torch (None: one per available core). Returns the count in effect."""
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def default_lanes(threads: int) -> int:
    """Model batches run side by side on lanes (`emostudio.model.lanes`): 2 when there are at least 2 threads."""
    return 2 if threads >= 2 else 1


def optimise_for_cpu(
    loaded: LoadedModel,
    precision: str = DEFAULT_CPU_PRECISION,
    threads: int | None = None,
    lanes: int | None = None,
) -> LoadedModel:
    """A CPU model set up for speed: precision "fp32" | "int8" | "bf16" (see the module docstring), the
    thread count, and how many batches run side by side when there are several (`lanes`, None:
    `default_lanes`; each lane gets threads // lanes threads). Changes `loaded.encoder` in place and returns a
    LoadedModel describing it; recorded in `arch["cpu_precision"]`, `["cpu_threads"]`, `["cpu_lanes"]`.
    Raises ModelError for a GPU or non-fp32 model, an unknown precision or a bad lane count."""
    if precision not in CPU_PRECISIONS:
        raise ModelError(f"precision {precision!r}: choose one of {', '.join(CPU_PRECISIONS)}")
    _check_cpu(loaded)
    n = set_threads(threads)
    lanes = default_lanes(n) if lanes is None else lanes
    if not isinstance(lanes, int) or not 1 <= lanes <= n:
        raise ModelError(f"lanes must be a whole number from 1 to the thread count ({n}), not {lanes!r}")
    arch = {**loaded.arch, "cpu_precision": precision, "cpu_threads": n, "cpu_lanes": lanes}
    if precision == "fp32":
        chunk_frontend_(loaded.encoder)
        release_freed_memory()
        return dataclasses.replace(loaded, arch=arch)
    if precision == "int8":
        quantize_int8_(loaded.encoder)
        chunk_frontend_(loaded.encoder)
        release_freed_memory()
        return dataclasses.replace(loaded, arch=arch)
    encoder = loaded.encoder.to(torch.bfloat16)
    return dataclasses.replace(loaded, encoder=encoder, dtype=torch.bfloat16, arch=arch)


def probability_drift(reference: LoadedModel, other: LoadedModel, waveforms: list) -> float:
    """Largest absolute difference of utterance probabilities (softmax over the model's logits) between two
    models over the same 16 kHz waveforms."""
    a = reference.encoder.encode(waveforms).logits
    b = other.encoder.encode(waveforms).logits
    if a is None or b is None:
        raise ModelError("probability_drift: both models need a classification head")
    return float((F.softmax(a, -1) - F.softmax(b, -1)).abs().max())
