"""The emotion2vec network (data2vec 2.0 audio branch, as FunASR's `Emotion2vec`) in plain PyTorch, batched.

Knows tensors, not files: build it with `Emotion2vecEncoder.from_config(model_conf, vocab_size)` from the
`model_conf` of an official config.yaml, load weights elsewhere (`emostudio.model.checkpoint`), call `encode`.

Batching with padding stays exact (equal to one-by-one runs): each waveform is normalised over its true length,
frame counts follow the conv formula, padded frames are zeroed before every positional conv, padded keys are
masked in attention and pooling only covers valid frames. Only inference is built (no masking, decoder or EMA).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from emostudio.errors import ModelError

SAMPLE_RATE_HZ = 16000
FRAME_RATE_HZ = 50
MAX_CONV_LAYERS = 16
DEFAULT_FEATURE_SPEC = "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]"
WAVEFORM_NORM_EPS = 1e-5  # F.layer_norm default, as FunASR's `inference` uses it


def parse_feature_spec(spec: str | Sequence[Sequence[int]]) -> tuple[tuple[int, int, int], ...]:
    """`'[(512, 10, 5)] + [(512, 3, 2)] * 4'` -> ((512, 10, 5), (512, 3, 2), ...) as (channels, kernel, stride).

    The config holds a Python expression; only list/tuple literals of ints with `+` and `*` are accepted
    (FunASR calls `eval` on it; we never do).
    """

    def ev(node: ast.AST):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Mult):
                count = right if isinstance(right, int) else left
                if not isinstance(count, int) or not 0 <= count <= MAX_CONV_LAYERS:
                    raise ModelError(
                        f"feature_encoder_spec {spec!r}: a repeat count must be 0–{MAX_CONV_LAYERS}"
                    )
                return left * right
            return left + right
        raise ModelError(
            f"feature_encoder_spec {spec!r}: only lists of (dim, kernel, stride) ints are allowed"
        )

    if isinstance(spec, str):
        if len(spec) > 2000:
            raise ModelError("feature_encoder_spec: longer than 2000 characters")
        try:
            value = ev(ast.parse(spec, mode="eval"))
        except (SyntaxError, RecursionError, TypeError) as e:
            raise ModelError(
                f"feature_encoder_spec {spec!r}: not a list of (dim, kernel, stride) triples"
            ) from e
    else:
        value = spec
    try:
        layers = tuple((_plain_int(d), _plain_int(k), _plain_int(s)) for d, k, s in value)
    except (TypeError, ValueError) as e:
        raise ModelError(f"feature_encoder_spec {spec!r}: expected (dim, kernel, stride) triples") from e
    if not 1 <= len(layers) <= MAX_CONV_LAYERS:
        raise ModelError(
            f"feature_encoder_spec {spec!r}: needs 1–{MAX_CONV_LAYERS} conv layers, has {len(layers)}"
        )
    for d, k, st in layers:
        if not (1 <= d <= 8192 and 1 <= k <= 1024 and 1 <= st <= 1024):
            raise ModelError(
                f"feature_encoder_spec {spec!r}: layer ({d}, {k}, {st}) is out of range "
                "(dim 1–8192, kernel 1–1024, stride 1–1024)"
            )
    return layers


def _plain_int(v) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{v!r} is not an integer")
    return v


def num_frames(num_samples: int, spec: str | Sequence[Sequence[int]] = DEFAULT_FEATURE_SPEC) -> int:
    """Frames (50 Hz) the conv stack makes from `num_samples` samples at 16 kHz; 16000 -> 49, < 400 -> 0."""
    n = int(num_samples)
    for _, k, s in parse_feature_spec(spec):
        if n < k:
            return 0
        n = (n - k) // s + 1
    return n


def receptive_field(spec: str | Sequence[Sequence[int]] = DEFAULT_FEATURE_SPEC) -> int:
    """Fewest samples that give one frame (400 = 25 ms for the official spec)."""
    n = 1
    for _, k, s in reversed(parse_feature_spec(spec)):
        n = (n - 1) * s + k
    return n


def alibi_slopes(num_heads: int) -> list[float]:
    """ALiBi slopes as fairseq/FunASR `get_alibi`: 2^(-8(i+1)/H) for a power of two, interleaved otherwise."""

    def pow2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(num_heads).is_integer():
        return pow2(num_heads)
    p = 2 ** math.floor(math.log2(num_heads))
    return pow2(p) + alibi_slopes(2 * p)[0::2][: num_heads - p]


def _conf_get(d: dict, key: str, where: str, default=None, required: bool = True):
    """`d[key]`, else `default`, else (when required) ModelError naming `where` + `key`."""
    if key in d and d[key] is not None:
        return d[key]
    if required and default is None:
        raise ModelError(f"model config: `{where}{key}` is missing")
    return default


def _conf_num(d: dict, key: str, where: str, kind: type, lo: float, hi: float, default=None, required=True):
    """A number of `kind` within [lo, hi], else ModelError naming the key and what was found."""
    raw = _conf_get(d, key, where, default, required)
    ok = (
        isinstance(raw, int | float)
        and not isinstance(raw, bool)
        and (kind is float or float(raw).is_integer())
    )
    if not ok:
        raise ModelError(
            f"model config: `{where}{key}` must be {'an integer' if kind is int else 'a number'}, got {raw!r}"
        )
    value = kind(raw)
    if not lo <= value <= hi:
        raise ModelError(f"model config: `{where}{key}` = {raw!r} is out of range ({lo:g}–{hi:g})")
    return value


def _conf_flag(d: dict, key: str, where: str, default: bool) -> bool:
    """A true/false setting, else ModelError naming the key."""
    raw = _conf_get(d, key, where, default, required=False)
    if not isinstance(raw, bool):
        raise ModelError(f"model config: `{where}{key}` must be true or false, got {raw!r}")
    return raw


@dataclass(frozen=True)
class EncoderConfig:
    """What the network needs from a config.yaml `model_conf` (FunASR names in comments where they differ)."""

    embed_dim: int
    num_heads: int
    depth: int
    prenet_depth: int
    mlp_ratio: float
    norm_eps: float
    norm_affine: bool
    layer_norm_first: bool
    feature_layers: tuple[tuple[int, int, int], ...]  # feature_encoder_spec
    extractor_mode: str  # "layer_norm" (LN after every conv) or "default" (GroupNorm after the first only)
    conv_pos_width: int
    conv_pos_depth: int
    conv_pos_groups: int
    conv_pos_pre_ln: bool
    num_extra_tokens: int
    use_alibi: bool
    alibi_scale: float  # initial value of the learned scale
    alibi_per_head: bool
    alibi_per_layer: bool
    num_alibi_heads: int
    normalize: bool  # layer-norm each waveform before the network
    vocab_size: int  # 0: no classification head

    @property
    def conv_pos_kernel(self) -> int:
        return max(3, self.conv_pos_width // self.conv_pos_depth)

    @classmethod
    def from_model_conf(cls, model_conf: dict, vocab_size: int) -> EncoderConfig:
        """Read a config.yaml `model_conf` dict; raise ModelError naming any missing or unsupported key."""

        if not isinstance(model_conf, dict):
            raise ModelError("model config: `model_conf` must be a mapping")
        audio = (
            (model_conf.get("modalities") or {}).get("audio")
            if isinstance(model_conf.get("modalities"), dict)
            else None
        )
        if not isinstance(audio, dict):
            raise ModelError("model config: `model_conf.modalities.audio` is missing")
        a = "model_conf.modalities.audio."
        if _conf_flag(audio, "learned_alibi", a, False):
            raise ModelError(
                "model config: `learned_alibi: true` is not supported (no official model uses it)"
            )
        mode = _conf_get(audio, "extractor_mode", a, "default", required=False)
        if mode not in ("default", "layer_norm"):
            raise ModelError(f"model config: extractor_mode {mode!r} must be 'default' or 'layer_norm'")
        m = "model_conf."
        embed_dim = _conf_num(model_conf, "embed_dim", m, int, 8, 8192)
        num_heads = _conf_num(model_conf, "num_heads", m, int, 1, 256)
        cfg = cls(
            embed_dim=embed_dim,
            num_heads=num_heads,
            depth=_conf_num(model_conf, "depth", m, int, 0, 128),
            prenet_depth=_conf_num(audio, "prenet_depth", a, int, 0, 128),
            mlp_ratio=_conf_num(model_conf, "mlp_ratio", m, float, 0.25, 16),
            norm_eps=_conf_num(model_conf, "norm_eps", m, float, 1e-12, 0.1),
            norm_affine=_conf_flag(model_conf, "norm_affine", m, True),
            layer_norm_first=_conf_flag(model_conf, "layer_norm_first", m, False),
            feature_layers=parse_feature_spec(_conf_get(audio, "feature_encoder_spec", a)),
            extractor_mode=mode,
            conv_pos_width=_conf_num(audio, "conv_pos_width", a, int, 1, 1024),
            conv_pos_depth=_conf_num(audio, "conv_pos_depth", a, int, 1, 32),
            conv_pos_groups=_conf_num(audio, "conv_pos_groups", a, int, 1, embed_dim),
            conv_pos_pre_ln=_conf_flag(audio, "conv_pos_pre_ln", a, False),
            num_extra_tokens=_conf_num(audio, "num_extra_tokens", a, int, 0, 64, 0, required=False),
            use_alibi=_conf_flag(audio, "use_alibi_encoder", a, False),
            alibi_scale=_conf_num(audio, "alibi_scale", a, float, -1e3, 1e3, 1.0, required=False),
            alibi_per_head=_conf_flag(audio, "learned_alibi_scale_per_head", a, False),
            alibi_per_layer=_conf_flag(audio, "learned_alibi_scale_per_layer", a, False),
            num_alibi_heads=_conf_num(audio, "num_alibi_heads", a, int, 1, num_heads, num_heads),
            normalize=_conf_flag(model_conf, "normalize", m, False),
            vocab_size=int(vocab_size),
        )
        if embed_dim % cfg.conv_pos_groups:
            raise ModelError(
                f"model config: conv_pos_groups {cfg.conv_pos_groups} must divide embed_dim {embed_dim}"
            )
        if cfg.embed_dim % cfg.num_heads or cfg.num_alibi_heads > cfg.num_heads:
            raise ModelError(
                f"model config: embed_dim {cfg.embed_dim} / num_heads {cfg.num_heads} / "
                f"num_alibi_heads {cfg.num_alibi_heads} do not fit together"
            )
        return cfg


@dataclass
class EncoderOutput:
    """Outputs of `Emotion2vecEncoder.encode`, on CPU in float32. Frames are 50 Hz (20 ms hop, 25 ms window)."""

    features: torch.Tensor  # (batch, frames, dim), zero at padded frames
    frame_lengths: torch.Tensor  # (batch,) int64, valid frames per item
    embeddings: torch.Tensor  # (batch, dim), mean over valid frames
    logits: torch.Tensor | None  # (batch, vocab); None if the model has no head
    frame_logits: torch.Tensor | None  # (batch, frames, vocab), zero at padded frames


class LayerNorm32(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back (FunASR's Fp32LayerNorm; used for every norm here)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.float() if self.weight is not None else None
        b = self.bias.float() if self.bias is not None else None
        return F.layer_norm(x.float(), self.normalized_shape, w, b, self.eps).to(x.dtype)


class ChannelNorm32(nn.Module):
    """Per-channel norm over valid frames (FunASR's Fp32GroupNorm(C, C) of extractor_mode `default`), in float32."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """x: (batch, channels, frames); valid: (batch, frames) bool."""
        xf = x.float()
        m = valid[:, None, :].float()
        n = m.sum(-1, keepdim=True)
        mean = (xf * m).sum(-1, keepdim=True) / n
        var = (((xf - mean) * m) ** 2).sum(-1, keepdim=True) / n
        y = (xf - mean) * torch.rsqrt(var + self.eps)
        y = y * self.weight.float()[None, :, None] + self.bias.float()[None, :, None]
        return y.to(x.dtype)


class ConvLayer(nn.Module):
    """Conv1d (no bias, no padding) -> optional norm -> GELU."""

    def __init__(self, n_in: int, n_out: int, kernel: int, stride: int, norm: str | None):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv1d(n_in, n_out, kernel, stride=stride, bias=False)
        self.norm: nn.Module | None = {
            "layer": LayerNorm32(n_out),
            "channel": ChannelNorm32(n_out),
            None: None,
        }[norm]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, in, samples) -> (batch, out, frames); lengths: valid samples -> valid frames."""
        x = self.conv(x)
        lengths = torch.div(lengths - self.kernel, self.stride, rounding_mode="floor") + 1
        if isinstance(self.norm, LayerNorm32):
            x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        elif isinstance(self.norm, ChannelNorm32):
            x = self.norm(x, torch.arange(x.size(-1), device=x.device)[None, :] < lengths[:, None])
        return F.gelu(x), lengths


class Attention(nn.Module):
    """Multi-head self-attention with an additive float bias (ALiBi + key padding) through SDPA."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """x: (batch, tokens, dim); bias: broadcastable to (batch, heads, tokens, tokens), x's dtype."""
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """data2vec 2.0 AltBlock. Post-LN: x = LN1(x + attn(x)); x = LN2(x + mlp(x))."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        d = cfg.embed_dim
        self.layer_norm_first = cfg.layer_norm_first
        self.norm1 = LayerNorm32(d, eps=cfg.norm_eps, elementwise_affine=cfg.norm_affine)
        self.attn = Attention(d, cfg.num_heads)
        self.norm2 = LayerNorm32(d, eps=cfg.norm_eps, elementwise_affine=cfg.norm_affine)
        self.mlp = Mlp(d, int(d * cfg.mlp_ratio))

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.layer_norm_first:  # fairseq data2vec2 pre-LN, residual quirk kept: r is the MLP output
            x = x + self.attn(self.norm1(x), bias)
            r = self.mlp(self.norm2(x))
            return r + r
        x = self.norm1(x + self.attn(x, bias))
        return self.norm2(x + self.mlp(x))


class Emotion2vecEncoder(nn.Module):
    """emotion2vec: conv feature extractor -> LN + Linear -> + positional conv -> [extra tokens; x] ->
    context LN -> prenet blocks -> main blocks -> drop extra tokens -> (linear head)."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.config = cfg
        d = cfg.embed_dim
        layers, n_in = [], 1
        for i, (dim, k, s) in enumerate(cfg.feature_layers):
            norm = "layer" if cfg.extractor_mode == "layer_norm" else ("channel" if i == 0 else None)
            layers.append(ConvLayer(n_in, dim, k, s, norm))
            n_in = dim
        self.conv_layers = nn.ModuleList(layers)
        self.feature_norm = LayerNorm32(n_in)
        self.feature_proj = nn.Linear(n_in, d)
        self.pos_pre_norm = LayerNorm32(d) if cfg.conv_pos_pre_ln else None
        k = cfg.conv_pos_kernel
        self.pos_convs = nn.ModuleList(
            nn.Conv1d(d, d, k, padding=k // 2, groups=cfg.conv_pos_groups) for _ in range(cfg.conv_pos_depth)
        )
        self.extra_tokens = (
            nn.Parameter(torch.zeros(1, cfg.num_extra_tokens, d)) if cfg.num_extra_tokens else None
        )
        self.alibi_scale = None
        if cfg.use_alibi:
            n_scales = cfg.prenet_depth + cfg.depth if cfg.alibi_per_layer else 1
            n_heads = cfg.num_alibi_heads if cfg.alibi_per_head else 1
            self.alibi_scale = nn.Parameter(torch.full((n_scales, 1, n_heads, 1, 1), cfg.alibi_scale))
        # FunASR's BlockEncoder norm: applied before the prenet blocks, and only built for post-LN models
        self.context_norm = (
            None
            if cfg.layer_norm_first
            else LayerNorm32(d, eps=cfg.norm_eps, elementwise_affine=cfg.norm_affine)
        )
        self.prenet = nn.ModuleList(Block(cfg) for _ in range(cfg.prenet_depth))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.final_norm = (
            LayerNorm32(d, eps=cfg.norm_eps, elementwise_affine=cfg.norm_affine)
            if cfg.layer_norm_first
            else None
        )
        self.head = nn.Linear(d, cfg.vocab_size) if cfg.vocab_size > 0 else None

    @classmethod
    def from_config(cls, model_conf: dict, vocab_size: int) -> Emotion2vecEncoder:
        """Build (random init, eval mode) from the `model_conf` dict of a config.yaml; vocab_size 0: no head."""
        return cls(EncoderConfig.from_model_conf(model_conf, vocab_size)).eval()

    # -- tensors in, tensors out ---------------------------------------------------------------------------

    @property
    def alibi_shared(self) -> bool:
        """True when every layer uses the same ALiBi bias (one learned scale), so one `alibi` tensor serves all."""
        return self.alibi_scale is not None and self.alibi_scale.size(0) == 1

    def alibi(self, num_frames: int, layer: int = 0) -> torch.Tensor | None:
        """(1, heads, tokens, tokens) float32 ALiBi bias for `num_frames` frames (tokens = extra tokens + frames):
        scaled slope × -|i - j| among frames, zero in the extra tokens' rows and columns; None without ALiBi.
        Its top-left corner is the bias of any shorter input, so one tensor built for the longest input of many
        serves them all (`encode(..., alibi=)`)."""
        if self.alibi_scale is None:
            return None
        with torch.no_grad():
            return self._alibi(num_frames, layer)

    def _alibi(self, num_frames: int, layer: int) -> torch.Tensor:
        e, h = self.config.num_extra_tokens, self.config.num_alibi_heads
        device = self.feature_proj.weight.device
        if self.alibi_scale is None:  # not reached: `alibi` returns None for a model without ALiBi
            raise ValueError("this model has no ALiBi scale")
        scale = self.alibi_scale[layer if self.alibi_scale.size(0) > 1 else 0].float().clamp_min(0).view(-1)
        slopes = torch.zeros(self.config.num_heads, device=device)
        slopes[:h] = torch.tensor(alibi_slopes(h), device=device) * scale.expand(h)
        pos = torch.arange(num_frames, device=device, dtype=torch.float32)
        dist = -(pos[None, :] - pos[:, None]).abs()
        # written in place (no padded copy): (1, heads, tokens, tokens), zero rows/columns for extra tokens
        bias = torch.empty(1, self.config.num_heads, e + num_frames, e + num_frames, device=device)
        bias[:, :, :e].zero_()
        bias[:, :, e:, :e].zero_()
        torch.mul(slopes[:, None, None], dist, out=bias[0, :, e:, e:])
        return bias

    def _attention_bias(
        self,
        layer: int,
        num_frames: int,
        valid: torch.Tensor | None,
        dtype: torch.dtype,
        shared: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """(1 or batch, heads, tokens, tokens) additive bias: scaled ALiBi among frames (zero for extra tokens),
        -inf on padded keys. None when there is neither. `shared`: an `alibi` built for at least `num_frames`
        frames, used through a view instead of building the ALiBi part again."""
        e = self.config.num_extra_tokens
        bias = None
        if self.alibi_scale is not None:
            if shared is not None:
                bias = shared[:, :, : e + num_frames, : e + num_frames]
            else:
                bias = self.alibi(num_frames, layer)
        if valid is not None:
            keys = F.pad(valid, (e, 0), value=True)
            key_bias = torch.zeros(keys.shape, device=valid.device).masked_fill(~keys, float("-inf"))[
                :, None, None, :
            ]
            bias = key_bias if bias is None else bias + key_bias
        return None if bias is None else bias.to(dtype)

    def forward(
        self,
        waveforms: torch.Tensor,
        lengths: torch.Tensor,
        always_mask: bool = False,
        alibi: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """waveforms: (batch, samples) 16 kHz, already normalised, zero-padded, in the module's dtype;
        lengths: (batch,) valid samples. Returns features (batch, frames, dim) — padded frames hold garbage —
        and frame_lengths (batch,) int64. always_mask: apply the padding mask even when nothing is padded (same
        result; no data-dependent branch, so one exported graph serves every batch). alibi: a shared
        `self.alibi(n)` with n ≥ this batch's frames (only when `alibi_shared`)."""
        x, lengths = waveforms.unsqueeze(1), lengths.to(device=waveforms.device, dtype=torch.long)
        for layer in self.conv_layers:
            x, lengths = layer(x, lengths)
        x = self.feature_proj(self.feature_norm(x.transpose(1, 2)))
        b, t, _ = x.shape
        in_length = torch.arange(t, device=x.device)[None, :] < lengths[:, None]
        valid = in_length if always_mask or not bool(in_length.all()) else None
        x = x + self._positional(x, valid)
        e = self.config.num_extra_tokens
        if self.extra_tokens is not None:
            x = torch.cat([self.extra_tokens.expand(b, -1, -1), x], dim=1)
        per_layer = self.alibi_scale is not None and self.alibi_scale.size(0) > 1
        if alibi is not None and (per_layer or alibi.size(-1) < e + t):
            raise ValueError(
                f"forward: the shared alibi holds {alibi.size(-1) - e} frames, this batch has {t}"
                if not per_layer
                else "forward: this model has one ALiBi scale per layer; no shared alibi"
            )
        bias = self._attention_bias(0, t, valid, x.dtype, alibi)
        if self.context_norm is not None:
            x = self.context_norm(x)
        for i, blk in enumerate([*self.prenet, *self.blocks]):
            x = blk(x, self._attention_bias(i, t, valid, x.dtype) if per_layer else bias)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x[:, e:], lengths

    def _positional(self, x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        """Stacked grouped convs (+ LN without affine, GELU); padded frames are zeroed before each conv, so each
        item sees the zero padding it would see alone. (batch, frames, dim) -> same."""
        mask = None if valid is None else valid[:, :, None].to(x.dtype)
        if self.pos_pre_norm is not None:
            x = self.pos_pre_norm(x)
        d = x.size(-1)
        for conv in self.pos_convs:
            if mask is not None:
                x = x * mask
            y = conv(x.transpose(1, 2))
            if self.config.conv_pos_kernel % 2 == 0:
                y = y[:, :, :-1]
            x = F.gelu(F.layer_norm(y.transpose(1, 2).float(), (d,), eps=1e-5).to(x.dtype))
        return x

    # -- the public batch API ------------------------------------------------------------------------------

    def encode(
        self,
        waveforms: Sequence[np.ndarray | torch.Tensor],
        normalize: bool | None = None,
        alibi: torch.Tensor | None = None,
    ) -> EncoderOutput:
        """Run a list of 1-D float 16 kHz waveforms of any lengths as one padded batch.

        normalize: layer-norm each waveform over its own length first (None: the config's `normalize`).
        alibi: `self.alibi(n)` built once for many batches of at most n frames (see `alibi`); None: built here.
        Runs under inference_mode on the module's device and dtype; returns CPU float32 tensors.
        Raises ValueError for an empty list, a waveform that is not 1-D or shorter than the receptive field
        (400 samples = 25 ms), or non-finite samples.
        """
        if len(waveforms) == 0:
            raise ValueError("encode: no waveforms given")
        normalize = self.config.normalize if normalize is None else normalize
        p = self.feature_proj.weight
        device, dtype = p.device, p.dtype
        need = receptive_field(self.config.feature_layers)
        items = []
        for i, w in enumerate(waveforms):
            w = torch.as_tensor(w)
            if w.dim() != 1:
                raise ValueError(f"encode: waveform {i} has shape {tuple(w.shape)}; expected 1-D samples")
            if w.numel() < need:
                raise ValueError(
                    f"encode: waveform {i} has {w.numel()} samples; at least {need} "
                    f"({1000 * need / SAMPLE_RATE_HZ:g} ms at 16 kHz) are needed for one frame"
                )
            items.append(w)
        lengths = torch.tensor([w.numel() for w in items], device=device)
        with torch.inference_mode():
            batch = torch.zeros(len(items), int(lengths.max()), device=device)
            for i, w in enumerate(items):
                batch[i, : w.numel()] = w.to(device=device, dtype=torch.float32)
            if not bool(torch.isfinite(batch).all()):
                bad = [i for i, w in enumerate(items) if not bool(torch.isfinite(w.float()).all())]
                raise ValueError(f"encode: waveform(s) {bad} contain NaN or infinite samples")
            if normalize:
                batch = normalize_waveforms(batch, lengths)
            x, frame_lengths = self.forward(batch.to(dtype), lengths, alibi=alibi)
            valid = (torch.arange(x.size(1), device=device)[None, :] < frame_lengths[:, None])[:, :, None]
            features = x.float() * valid
            embeddings = features.sum(1) / frame_lengths[:, None].float()
            logits = frame_logits = None
            if self.head is not None:
                logits = self.head(embeddings.to(dtype)).float()
                frame_logits = self.head(x).float() * valid
        return EncoderOutput(
            features=features.cpu(),
            frame_lengths=frame_lengths.cpu(),
            embeddings=embeddings.cpu(),
            logits=None if logits is None else logits.cpu(),
            frame_logits=None if frame_logits is None else frame_logits.cpu(),
        )


def normalize_waveforms(batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit (population) variance over each row's first `lengths[i]` samples, eps 1e-5, as
    FunASR's `F.layer_norm(wav, wav.shape)`; padding stays zero. (batch, samples) float32 -> same."""
    valid = (torch.arange(batch.size(1), device=batch.device)[None, :] < lengths[:, None]).float()
    n = lengths[:, None].float()
    mean = (batch * valid).sum(1, keepdim=True) / n
    var = (((batch - mean) * valid) ** 2).sum(1, keepdim=True) / n
    return (batch - mean) * torch.rsqrt(var + WAVEFORM_NORM_EPS) * valid


def randomize_weights_(encoder: Emotion2vecEncoder, seed: int = 0) -> Emotion2vecEncoder:
    """Re-draw every tensor so a random model is not degenerate: linear/conv weights and extra tokens ~ N(0, 0.02)
    (extra tokens N(0, 1)), norm weights 1 + 0.1 N, biases 0.02 N, ALiBi scales U(0.5, 1.5) (positive)."""
    g = torch.Generator().manual_seed(int(seed))
    norms = {
        id(p)
        for m in encoder.modules()
        if isinstance(m, nn.LayerNorm | ChannelNorm32)
        for p in m.parameters()
    }
    with torch.no_grad():
        for name, p in encoder.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if name == "alibi_scale":
                r = 0.5 + torch.rand(p.shape, generator=g)
            elif name == "extra_tokens":
                pass
            elif id(p) in norms and name.endswith("weight"):
                r = 1.0 + 0.1 * r
            else:
                r = 0.02 * r
            p.copy_(r)
    return encoder
