"""Find, download, load (strict and safe), convert and make emotion2vec checkpoints (model folders).

Knows files and hubs, not audio. A model folder holds `config.yaml` (FunASR's, with `model_conf`), weights
(`model.safetensors` from `convert`, else the hub's `model.pt`) and `tokens.txt` (one label per line).
Reading the weights themselves (safely), their tensor names and their sha256: emostudio.model.weights.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
import yaml

from emostudio.atomic import atomic_open, write_bytes, write_json, write_text
from emostudio.errors import ModelError
from emostudio.model import labels as L
from emostudio.model.encoder import Emotion2vecEncoder, randomize_weights_
from emostudio.model.hub import (
    ALIASES,
    DEFAULT_MODEL,
    DEMO_ID,
    HUB_NAMES,
    ModelNotFoundError,
    _weights_file,
    find_model,
    hub_ids,
    huggingface_dir,
    modelscope_dirs,
    weights_file,
)
from emostudio.model.weights import (
    CheckpointError,
    file_sha256,
    funasr_names,
    load_weights_,
    read_state_dict,
    tensors_sha256,
)

__all__ = [  # the hub names are re-exported: callers find everything about loading here
    "ALIASES",
    "ARCHS",
    "DEFAULT_MODEL",
    "DEMO_ID",
    "HUB_NAMES",
    "CheckpointError",
    "LoadedModel",
    "ModelNotFoundError",
    "convert",
    "find_model",
    "hub_ids",
    "huggingface_dir",
    "init_random",
    "load_model",
    "model_info",
    "modelscope_dirs",
    "read_state_dict",
    "weights_file",
]

ARCHS = ("tiny", "base", "plus_large")
MAX_PARAMS = 2_000_000_000  # a config describing more is refused before anything is allocated
RANDOM_FLAG = "emostudio_random_weights"
RANDOM_NOTE = "RANDOM_WEIGHTS.txt"


@dataclass
class LoadedModel:
    """A ready encoder plus what it was loaded from."""

    encoder: Emotion2vecEncoder  # eval(), on device, in dtype
    tokens: list[str]  # raw tokens.txt lines, in output order
    labels: list[str | None]  # English key per output index (None for unuse*)
    model_id: str  # canonical id ("iic/emotion2vec_plus_large", "demo", or the local folder)
    source: str  # folder actually loaded from, or "memory"
    is_random: bool
    arch: dict = field(default_factory=dict)  # embed_dim, num_heads, depth, prenet_depth, params, ...
    device: torch.device = torch.device("cpu")
    dtype: torch.dtype = torch.float32
    weights_path: str | None = None  # the weights file loaded, when loaded from a folder
    warnings: list[str] = field(default_factory=list)  # e.g. checkpoint tensors the model does not use
    _fingerprint: str | None = field(default=None, repr=False)

    def fingerprint(self) -> str:
        """sha256 of what decides the numbers: the weights file (or, for in-memory models, every tensor).

        Computed once (about 1 s per GB); batch jobs use it so a resume never mixes two sets of weights.
        """
        if self._fingerprint is None:
            self._fingerprint = (
                file_sha256(self.weights_path) if self.weights_path else tensors_sha256(self.encoder)
            )
        return self._fingerprint

    def key_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """(..., vocab) -> (..., 9) in `labels.KEYS` order; -inf for classes the model lacks or marks unuse."""
        idx = [self.labels.index(k) if k in self.labels else -1 for k in L.KEYS]
        present = torch.tensor([i >= 0 for i in idx], device=logits.device)
        picked = logits[..., [max(i, 0) for i in idx]]
        return picked.masked_fill(~present, float("-inf"))


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a readable YAML file ({str(e)[:300]})") from e
    if not isinstance(data, dict) or not isinstance(data.get("model_conf"), dict):
        raise CheckpointError(f"{path}: no `model_conf` mapping (is this FunASR's config.yaml?)")
    return data


def _read_tokens(folder: Path) -> tuple[list[str], list[str | None]]:
    path = folder / "tokens.txt"
    if not path.is_file():
        return [], []
    try:
        tokens = L.read_tokens(path.read_bytes().decode("utf-8", errors="strict"))
    except UnicodeDecodeError as e:
        raise CheckpointError(
            f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); expected one label per line"
        ) from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(tokens) > 1000:
        raise CheckpointError(
            f"{path}: {len(tokens)} lines; expected one line per emotion label (9 for emotion2vec+)"
        )
    try:
        return tokens, [L.normalise_token(t) for t in tokens]
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from e


def _is_random(folder: Path, config: dict) -> bool:
    if config.get(RANDOM_FLAG) or (folder / RANDOM_NOTE).is_file():
        return True
    meta = folder / "configuration.json"
    try:
        return bool(meta.is_file() and json.loads(meta.read_text(encoding="utf-8")).get(RANDOM_FLAG))
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def arch_info(encoder: Emotion2vecEncoder) -> dict:
    """Architecture summary: name (if it matches a shipped config), sizes, parameter count."""
    c = encoder.config
    sizes = (c.embed_dim, c.num_heads, c.depth, c.prenet_depth)
    name = {(1024, 16, 8, 4): "plus_large", (768, 12, 8, 4): "base", (64, 4, 2, 1): "tiny"}.get(
        sizes, "custom"
    )
    return {
        "name": name,
        "embed_dim": c.embed_dim,
        "num_heads": c.num_heads,
        "depth": c.depth,
        "prenet_depth": c.prenet_depth,
        "mlp_ratio": c.mlp_ratio,
        "extractor_mode": c.extractor_mode,
        "feature_dim": c.feature_layers[-1][0],
        "num_extra_tokens": c.num_extra_tokens,
        "vocab_size": c.vocab_size,
        "normalize": c.normalize,
        "params": sum(p.numel() for p in encoder.parameters()),
    }


def _device_dtype(
    device: str | torch.device, dtype: str | torch.dtype | None
) -> tuple[torch.device, torch.dtype]:
    dev = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if str(device) == "auto" else device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for, but no CUDA device is available")
    names = {
        "fp32": torch.float32,
        "float32": torch.float32,
        "bf16": torch.bfloat16,
        "bfloat16": torch.bfloat16,
    }
    names |= {"fp16": torch.float16, "float16": torch.float16, "half": torch.float16}
    if dtype is None:
        dt = torch.float32
    elif isinstance(dtype, torch.dtype):
        dt = dtype
    elif str(dtype).lower() in names:
        dt = names[str(dtype).lower()]
    else:
        raise ModelError(f"dtype {dtype!r}: use fp32, bf16 or fp16")
    if dt not in (torch.float32, torch.bfloat16, torch.float16):
        raise ModelError(f"dtype {dt}: use fp32, bf16 or fp16")
    if dt == torch.float16 and dev.type != "cuda":
        raise ModelError("fp16 needs a CUDA device; use fp32 (or bf16) on CPU")
    return dev, dt


def _package_text(name: str) -> str:
    return resources.files("emostudio").joinpath("configs", name).read_text(encoding="utf-8")


def _arch_config(arch: str) -> str:
    if arch not in ARCHS:
        raise ModelError(f"arch {arch!r}: choose one of {', '.join(ARCHS)}")
    return _package_text(f"{arch}.yaml")


@dataclass
class FolderModel:
    """What `load_folder` read: the encoder (CPU fp32, eval) and its metadata."""

    encoder: Emotion2vecEncoder
    config: dict
    tokens: list[str]
    labels: list[str | None]
    is_random: bool
    warnings: list[str]


def load_folder(folder: Path) -> FolderModel:
    """Read, check and load a complete model folder. The config is checked (types, ranges, total size) before
    any tensor is allocated; raises CheckpointError naming the file and the key or tensor."""
    config = _read_yaml(folder / "config.yaml")
    tokens, labels = _read_tokens(folder)
    weights = _weights_file(folder)
    if weights is None:
        raise CheckpointError(f"{folder}: no model.safetensors or model.pt")
    try:
        with torch.device("meta"):  # shapes only: nothing is allocated yet
            encoder = Emotion2vecEncoder.from_config(config["model_conf"], len(tokens))
    except ModelError as e:
        raise CheckpointError(f"{folder / 'config.yaml'}: {e}") from None
    params = sum(p.numel() for p in encoder.parameters())
    if params > MAX_PARAMS:
        raise CheckpointError(
            f"{folder / 'config.yaml'}: the configuration describes {params:,} parameters "
            f"({4 * params / 1e9:.1f} GB); emotion2vec models have under {MAX_PARAMS:,}"
        )
    encoder = encoder.to_empty(device="cpu")
    warns = load_weights_(encoder, read_state_dict(weights), str(weights))
    is_random = _is_random(folder, config)
    if weights.suffix == ".safetensors":
        with safetensors.safe_open(str(weights), "pt") as f:
            is_random = is_random or (f.metadata() or {}).get(RANDOM_FLAG) == "true"
    return FolderModel(encoder.eval(), config, tokens, labels, is_random, warns)


def load_model(
    model: str | os.PathLike = DEFAULT_MODEL,
    device: str = "auto",
    dtype: str | torch.dtype | None = None,
    allow_download: bool = True,
) -> LoadedModel:
    """Find and load a model: `demo`, a local folder, a hub id or alias (`large`, `base`, `seed`).

    device "auto": CUDA if available else CPU. dtype: fp32 (default), bf16, fp16 (CUDA only).
    Raises ModelNotFoundError (lists every place searched) or CheckpointError (names the bad tensors).
    """
    dev, dt = _device_dtype(device, dtype)
    if os.fspath(model) == DEMO_ID:
        config = yaml.safe_load(_arch_config("tiny"))
        tokens = list(L.OFFICIAL_TOKENS)
        encoder = randomize_weights_(Emotion2vecEncoder.from_config(config["model_conf"], len(tokens)), 0)
        model_id, source, is_random = DEMO_ID, "memory", True
        demo_fingerprint = tensors_sha256(encoder)  # before any CPU fast path rewrites the modules
        load_warnings: list[str] = []
        labels: list[str | None] = [L.normalise_token(t) for t in tokens]
        weights_path = None
    else:
        folder, model_id = find_model(model, allow_download)
        loaded_folder = load_folder(folder)
        encoder, tokens, labels, is_random = (
            loaded_folder.encoder,
            loaded_folder.tokens,
            loaded_folder.labels,
            loaded_folder.is_random,
        )
        load_warnings = loaded_folder.warnings
        source = str(folder)
        weights_path = str(_weights_file(folder))
    encoder = encoder.to(device=dev, dtype=dt).eval()
    loaded = LoadedModel(
        encoder, tokens, labels, model_id, source, is_random, arch_info(encoder), dev, dt, weights_path
    )
    loaded.warnings = load_warnings
    if weights_path is None:
        loaded._fingerprint = demo_fingerprint
    return loaded


# -- writing -------------------------------------------------------------------------------------------------


def _configuration_json(weights: str, random: bool) -> dict:
    meta: dict[str, Any] = {
        "framework": "pytorch",
        "task": "emotion-recognition",
        "pipeline": {"type": "funasr-pipeline"},
        "model": {"type": "funasr"},
        "file_path_metas": {
            "init_param": weights,
            "tokenizer_conf": {"token_list": "tokens.txt"},
            "config": "config.yaml",
        },
    }
    if random:
        meta[RANDOM_FLAG] = True
    return meta


def _random_note(arch: str, seed: int) -> str:
    return (
        f"These weights are RANDOM (emostudio init_random, arch={arch}, seed={seed}).\n"
        "They are for tests, demos and benchmarks only: emotion scores from them mean nothing.\n"
    )


def init_random(directory: str | os.PathLike, arch: str = "tiny", seed: int = 0) -> Path:
    """Write a randomly initialised checkpoint in the official layout: model.pt (`d2v_model.`-prefixed tensors
    under a `model` dict), config.yaml, tokens.txt, configuration.json, RANDOM_WEIGHTS.txt. Returns the folder."""
    text = _arch_config(arch)
    config = yaml.safe_load(text)
    tokens = list(L.OFFICIAL_TOKENS)
    encoder = randomize_weights_(Emotion2vecEncoder.from_config(config["model_conf"], len(tokens)), seed)
    names = funasr_names(encoder)
    state = {"d2v_model." + names[n]: p.detach().clone() for n, p in encoder.named_parameters()}
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_open(folder / "model.pt", "wb") as f:
        torch.save({"model": state}, f)
    note = f"\n# written by emostudio init_random(arch={arch}, seed={seed}): random weights, scores mean nothing\n"
    write_text(folder / "config.yaml", text.rstrip("\n") + "\n" + note + f"{RANDOM_FLAG}: true\n")
    write_text(folder / "tokens.txt", "\n".join(tokens))
    write_json(folder / "configuration.json", _configuration_json("model.pt", True))
    write_text(folder / RANDOM_NOTE, _random_note(arch, seed))
    return folder


def convert(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Check `src` (folder or id) strictly and write `dst` with model.safetensors (FunASR tensor names, no
    prefix), config.yaml, tokens.txt and configuration.json for fast, pickle-free loading. Returns dst."""
    folder, _ = find_model(src, allow_download=False)
    fm = load_folder(folder)
    encoder, tokens, is_random = fm.encoder, fm.tokens, fm.is_random
    out = Path(dst)
    if out.resolve() == folder.resolve():
        raise ModelError(f"convert: destination {out} is the source folder; choose another")
    names = funasr_names(encoder)
    tensors = {names[n]: p.detach().contiguous() for n, p in encoder.named_parameters()}
    meta = {"format": "pt", "source": str(folder), RANDOM_FLAG: "true" if is_random else "false"}
    out.mkdir(parents=True, exist_ok=True)
    write_bytes(out / "model.safetensors", safetensors.torch.save(tensors, metadata=meta))
    write_text(out / "config.yaml", (folder / "config.yaml").read_text(encoding="utf-8"))
    if tokens:
        write_text(out / "tokens.txt", (folder / "tokens.txt").read_text(encoding="utf-8"))
    write_json(out / "configuration.json", _configuration_json("model.safetensors", is_random))
    if is_random:
        note = folder / RANDOM_NOTE
        write_text(
            out / RANDOM_NOTE, note.read_text(encoding="utf-8") if note.is_file() else "Random weights.\n"
        )
    return out


def model_info(model: str | os.PathLike) -> dict:
    """Architecture, parameter count, labels, where it was loaded from and whether it is random (loads on CPU,
    never downloads)."""
    m = load_model(model, device="cpu", allow_download=False)
    return {
        "model_id": m.model_id,
        "source": m.source,
        "is_random": m.is_random,
        "arch": m.arch,
        "params": m.arch["params"],
        "tokens": m.tokens,
        "labels": m.labels,
    }
