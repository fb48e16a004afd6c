"""Forward-pass FLOPs of emotion2vec from its architecture (a multiply-add counts as 2 FLOPs).

Counted: the conv front-end, the feature projection, the positional convs, every transformer block
(qkv, attention scores, attention-weighted values, output projection, MLP) and the head. Not counted:
norms, GELU, softmax, bias adds (elementwise work, < 1% here).
"""

from __future__ import annotations

from dataclasses import dataclass

from emostudio.model.encoder import SAMPLE_RATE_HZ, EncoderConfig


@dataclass(frozen=True)
class Flops:
    """FLOPs of one forward pass over one clip, by part."""

    conv_frontend: int
    feature_proj: int
    positional_conv: int
    transformer_linear: int  # qkv + attention output projection + MLP, all blocks (prenet + main)
    attention: int  # QK^T and AV, all blocks: grows with tokens²
    head: int
    frames: int
    tokens: int  # frames + extra tokens

    @property
    def total(self) -> int:
        return (
            self.conv_frontend
            + self.feature_proj
            + self.positional_conv
            + self.transformer_linear
            + self.attention
            + self.head
        )


def count_flops(cfg: EncoderConfig, num_samples: int, frame_head: bool = False) -> Flops:
    """FLOPs for one clip of `num_samples` samples at 16 kHz. frame_head: the head also runs on every frame
    (frame mode) besides the pooled vector."""
    n, c_in, conv = int(num_samples), 1, 0
    for c_out, k, s in cfg.feature_layers:
        n = (n - k) // s + 1
        if n <= 0:
            raise ValueError(f"{num_samples} samples are shorter than the conv front-end's receptive field")
        conv += 2 * n * c_out * c_in * k
        c_in = c_out
    frames, d = n, cfg.embed_dim
    proj = 2 * frames * c_in * d
    k = cfg.conv_pos_kernel
    pos = cfg.conv_pos_depth * 2 * frames * d * (d // cfg.conv_pos_groups) * k
    tokens = frames + cfg.num_extra_tokens
    hidden = int(d * cfg.mlp_ratio)
    layers = cfg.prenet_depth + cfg.depth
    linear = layers * 2 * tokens * (3 * d * d + d * d + 2 * d * hidden)
    attention = layers * 2 * 2 * tokens * tokens * d
    heads = 1 + (frames if frame_head else 0)
    head = heads * 2 * d * cfg.vocab_size
    return Flops(conv, proj, pos, linear, attention, head, frames, tokens)


def flops_per_audio_second(cfg: EncoderConfig, clip_s: float = 10.0) -> float:
    """FLOPs per second of audio when clips are `clip_s` long (attention makes longer clips cost more per second)."""
    return count_flops(cfg, int(clip_s * SAMPLE_RATE_HZ)).total / clip_s


# Dense (no sparsity) bf16 tensor-core peaks, FLOP/s, from the vendors' data sheets; matched on the device name.
BF16_PEAK_FLOPS = {
    "H100 SXM": 989e12, "H100 80GB HBM3": 989e12, "H100 PCIe": 756e12, "H100 NVL": 835e12, "H100": 989e12,
    "H200": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12,
}  # fmt: skip


def bf16_peak(device_name: str) -> float | None:
    """The data-sheet bf16 peak for a GPU name such as 'NVIDIA H100 80GB HBM3'; None if unknown."""
    for key in sorted(BF16_PEAK_FLOPS, key=len, reverse=True):
        if key in device_name:
            return BF16_PEAK_FLOPS[key]
    return None
