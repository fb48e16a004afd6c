"""Reading and checking weights: safe loading (safetensors, or `torch.load(weights_only=True)`: never an arbitrary
unpickle), FunASR's tensor names, strict loading into the native encoder, and the sha256 that identifies them.

Checkpoint tensor names are FunASR's (`modality_encoders.AUDIO...`, `blocks.N...`, `proj...`), optionally under
`d2v_model.` / `module.` and inside a `model` / `state_dict` / `model_state_dict` dict.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import warnings
from pathlib import Path

import safetensors
import safetensors.torch
import torch

from emostudio.errors import ModelError
from emostudio.model.encoder import Emotion2vecEncoder

_PREFIXES = ("module.", "d2v_model.")
_WRAPPERS = ("model", "state_dict", "model_state_dict")
# checkpoint tensors FunASR never uses at inference: pretraining decoder, EMA teacher, other modalities
_KNOWN_UNUSED = re.compile(
    r"^(modality_encoders\.AUDIO\.decoder\.|ema\.|_ema|modality_encoders\.(IMAGE|TEXT)\.)"
)


class CheckpointError(ModelError):
    """A checkpoint that is unsafe (pickled objects), corrupt, or does not match its config; names the keys."""

    code = "checkpoint_error"


def file_sha256(path: str | os.PathLike, block: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def tensors_sha256(module: torch.nn.Module) -> str:
    """sha256 over every parameter's name, shape, dtype and bytes (for models that live only in memory)."""
    h = hashlib.sha256()
    for name, p in module.state_dict().items():
        t = p.detach().to("cpu").contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


# -- names ---------------------------------------------------------------------------------------------------


def funasr_names(encoder: Emotion2vecEncoder) -> dict[str, str]:
    """Native parameter name -> FunASR state_dict name (without `d2v_model.`), for this encoder's config."""
    cfg = encoder.config
    audio = "modality_encoders.AUDIO."
    pos = audio + "relative_positional_encoder." + ("1." if cfg.conv_pos_pre_ln else "")
    rules = [
        (r"conv_layers\.(\d+)\.conv\.", audio + r"local_encoder.conv_layers.\1.0."),
        (
            r"conv_layers\.(\d+)\.norm\.",
            audio
            + r"local_encoder.conv_layers.\1."
            + ("2.1." if cfg.extractor_mode == "layer_norm" else "2."),
        ),
        (r"feature_norm\.", audio + "project_features.1."),
        (r"feature_proj\.", audio + "project_features.2."),
        (r"pos_pre_norm\.", audio + "relative_positional_encoder.0."),
        (r"pos_convs\.(\d+)\.", None),
        (r"extra_tokens$", audio + "extra_tokens"),
        (r"alibi_scale$", audio + "alibi_scale"),
        (r"context_norm\.", audio + "context_encoder.norm."),
        (r"prenet\.", audio + "context_encoder.blocks."),
        (r"blocks\.", "blocks."),
        (r"final_norm\.", "norm."),
        (r"head\.", "proj."),
    ]
    out = {}
    for name, _ in encoder.named_parameters():
        for pattern, repl in rules:
            m = re.match(pattern, name)
            if m:
                if repl is None:  # pos conv j lives at Sequential index j + 1 (index 0 is TransposeLast)
                    out[name] = f"{pos}{int(m.group(1)) + 1}.0." + name[m.end() :]
                else:
                    out[name] = re.sub("^" + pattern, repl, name)
                break
        else:
            raise AssertionError(f"no FunASR name for parameter {name}")
    return out


# -- reading -------------------------------------------------------------------------------------------------


def _torch_load(path: Path):
    """torch.load with weights_only=True, torch's own warnings kept from the user (they advise unsafe loads)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e):
                raise
            return torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format


def _unpickler_detail(text: str) -> str:
    """What torch's safe unpickler objected to, without its advice to load the file unsafely."""
    tail = text.split("WeightsUnpickler error:", 1)[-1]
    tail = tail.split("Check the documentation", 1)[0]
    words = " ".join(tail.split()).rstrip(". ")
    return words[:200] or "unknown reason"


def _first_line(e: BaseException) -> str:
    """The first line of an exception's text, without torch's advice to load unsafely."""
    for line in str(e).splitlines():
        line = line.strip()
        if line and "weights_only=False" not in line and "re-running" not in line.lower():
            return line[:300]
    return type(e).__name__


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, prefixes stripped and wrapper dicts unwrapped. Never unpickles objects:
    `torch.load(weights_only=True)` or safetensors. Raises CheckpointError naming the file and the problem."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from None
    if size == 0:
        raise CheckpointError(f"{path}: the weights file is empty (0 bytes); download it again")
    if path.suffix == ".safetensors":
        try:
            obj: object = safetensors.torch.load_file(str(path))
        except Exception as e:  # any failure of the reader means the same thing to the user
            raise CheckpointError(f"{path}: not a readable safetensors file ({_first_line(e)})") from None
    else:
        try:
            obj = _torch_load(path)
        except pickle.UnpicklingError as e:
            detail = _unpickler_detail(str(e))
            if "unsupported global" in detail.lower():
                raise CheckpointError(
                    f"{path}: refused: the file holds pickled Python objects, not just tensors, and loading it "
                    f"could run code ({detail}). Only tensor checkpoints (torch.save of tensors, or "
                    "safetensors) are read"
                ) from None
            raise CheckpointError(
                f"{path}: not a readable PyTorch checkpoint (a pickle that cannot be read safely: {detail})"
            ) from None
        except Exception as e:  # random bytes make torch fail in many ways (IndexError, EOFError, ...)
            raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({_first_line(e)})") from None
    while isinstance(obj, dict):
        inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict of tensors, found {type(obj).__name__}")
    not_tensors = sorted(str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        raise CheckpointError(f"{path}: entries that are not tensors: {_names(not_tensors)}")
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        name = str(key)
        while name.startswith(_PREFIXES):
            name = name.split(".", 1)[1]
        if name in out:
            raise CheckpointError(f"{path}: tensor {name!r} appears twice (with and without a prefix)")
        out[name] = value
    return out


def _names(keys: list[str], limit: int = 30) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def load_weights_(encoder: Emotion2vecEncoder, state: dict[str, torch.Tensor], where: str) -> list[str]:
    """Copy FunASR-named tensors into `encoder` and return warnings.

    Refused (CheckpointError naming the tensors): a parameter missing or of the wrong shape, non-finite values,
    a classification head when the folder has no tokens.txt. Tensors no module of this model takes are
    ignored, as FunASR ignores them: known ones (pretraining decoder, EMA teacher, other modalities) silently,
    others with a warning naming them.
    """
    to_native = {v: k for k, v in funasr_names(encoder).items()}
    params = dict(encoder.named_parameters())
    found: dict[str, torch.Tensor] = {}
    unexpected, mismatched, wrong = [], [], set()
    for key, value in state.items():
        native = to_native.get(key)
        if native is None:
            if not _KNOWN_UNUSED.match(key):
                unexpected.append(key)
            continue
        want = params[native].shape
        if native == "alibi_scale" and value.dim() == 4:  # old layout, upgraded as FunASR does
            value = value.unsqueeze(0)
        if value.shape != want:
            mismatched.append(f"{key} {tuple(value.shape)} (model needs {tuple(want)})")
            wrong.add(native)
            continue
        found[native] = value
    names = {v: k for k, v in to_native.items()}
    missing = [names[n] for n in params if n not in found and n not in wrong]
    problems = []
    if missing:
        problems.append(f"missing tensors: {_names(sorted(missing))}")
    if mismatched:
        problems.append(f"wrong shapes: {_names(sorted(mismatched))}")
    if encoder.head is None and any(k.startswith("proj.") for k in unexpected):
        problems.append("the checkpoint has a classification head (proj) but the folder has no tokens.txt")
    if problems:
        raise CheckpointError(f"{where}: checkpoint does not match its config.yaml; " + "; ".join(problems))
    bad = [names[n] for n, t in found.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(f"{where}: model has NaN/Inf in {_names(sorted(bad))}; the weights are corrupt")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(found[name])
    if unexpected:
        return [
            f"{where}: ignored {len(unexpected)} tensor(s) this model does not use: {_names(sorted(unexpected), 8)}"
        ]
    return []
