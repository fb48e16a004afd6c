"""Find, download, load (strict and safe), convert and make emotion2vec checkpoints.

Knows files and hubs, not audio. A model folder holds `config.yaml` (FunASR's, with `model_conf`), weights
(`model.safetensors` from `convert`, else the hub's `model.pt`) and `tokens.txt` (one label per line).
Checkpoint tensor names are FunASR's (`modality_encoders.AUDIO...`, `blocks.N...`, `proj...`), optionally under
`d2v_model.` / `module.` and inside a `model` / `state_dict` / `model_state_dict` dict.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
import urllib.parse
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import safetensors
import safetensors.torch
import torch
import yaml

from emostudio.atomic import atomic_open, write_bytes, write_json, write_text
from emostudio.errors import ModelError
from emostudio.model import labels as L
from emostudio.model.encoder import Emotion2vecEncoder, randomize_weights_

DEFAULT_MODEL = "iic/emotion2vec_plus_large"
HUB_NAMES = (
    "emotion2vec_plus_large",
    "emotion2vec_plus_base",
    "emotion2vec_plus_seed",
    "emotion2vec_base_finetuned",
    "emotion2vec_base",
)
ALIASES = {
    "large": "iic/emotion2vec_plus_large",
    "base": "iic/emotion2vec_plus_base",
    "seed": "iic/emotion2vec_plus_seed",
}
ARCHS = ("tiny", "base", "plus_large")
DEMO_ID = "demo"
RANDOM_FLAG = "emostudio_random_weights"
RANDOM_NOTE = "RANDOM_WEIGHTS.txt"
_PREFIXES = ("module.", "d2v_model.")
_WRAPPERS = ("model", "state_dict", "model_state_dict")
# checkpoint tensors FunASR never uses at inference: pretraining decoder, EMA teacher, other modalities
_KNOWN_UNUSED = re.compile(
    r"^(modality_encoders\.AUDIO\.decoder\.|ema\.|_ema|modality_encoders\.(IMAGE|TEXT)\.)"
)


class ModelNotFoundError(ModelError):
    """No model folder found for an id or path; `searched` lists every place looked at, in order."""

    code = "model_not_found"

    def __init__(self, model: str, searched: list[str], problem: str = "was not found"):
        self.model = str(model)
        self.searched = list(searched)
        lines = [f"model {self.model!r} {problem}. Searched:"]
        lines += [f"  - {s}" for s in self.searched] or ["  - (nothing)"]
        lines += [
            "How to get weights:",
            f"  - online: use a hub id such as {DEFAULT_MODEL} (or emotion2vec/emotion2vec_plus_large); "
            "needs `pip install 'emostudio[hub]'` (modelscope / huggingface_hub) and downloads into their caches",
            "  - offline: pass a local folder holding model.pt + config.yaml + tokens.txt (a copy of the hub repo), "
            "or put that folder in the ModelScope cache (~/.cache/modelscope/hub/models/iic/NAME, or $MODELSCOPE_CACHE) "
            "or the Hugging Face cache (~/.cache/huggingface/hub/models--emotion2vec--NAME, or $HF_HUB_CACHE / $HF_HOME)",
            "  - just to try the workflow: --model demo (tiny random weights; scores are meaningless)",
        ]
        super().__init__("\n".join(lines))


class CheckpointError(ModelError):
    """A checkpoint that is unsafe (pickled objects), corrupt, or does not match its config; names the keys."""

    code = "checkpoint_error"


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

    def key_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """(..., vocab) -> (..., 9) in `labels.KEYS` order; -inf for classes the model lacks or marks unuse."""
        idx = [self.labels.index(k) if k in self.labels else -1 for k in L.KEYS]
        present = torch.tensor([i >= 0 for i in idx], device=logits.device)
        picked = logits[..., [max(i, 0) for i in idx]]
        return picked.masked_fill(~present, float("-inf"))


# -- names ---------------------------------------------------------------------------------------------------


def hub_ids(model: str) -> tuple[str, str] | None:
    """(ModelScope id, Hugging Face id) for a known name, alias or `org/name` id; None if it is none of these."""
    model = ALIASES.get(model, model)
    org, _, name = model.rpartition("/")
    if name in HUB_NAMES and org in ("", "iic", "emotion2vec"):
        return f"iic/{name}", f"emotion2vec/{name}"
    if re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        return model, model
    return None


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


# -- finding -------------------------------------------------------------------------------------------------


def _weights_file(folder: Path) -> Path | None:
    for name in ("model.safetensors", "model.pt"):
        if (folder / name).is_file():
            return folder / name
    return None


def _complete(folder: Path) -> bool:
    return folder.is_dir() and (folder / "config.yaml").is_file() and _weights_file(folder) is not None


def _hf_snapshot(repo_dir: Path) -> Path | None:
    """The snapshot of a Hugging Face cache repo folder (`models--org--name`) that refs/main points at."""
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        snap = repo_dir / "snapshots" / ref.read_text().strip()
        return snap if snap.is_dir() else None
    snaps = (
        sorted((repo_dir / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime)
        if repo_dir.is_dir()
        else []
    )
    return snaps[-1] if snaps else None


def _local_folder(path: Path, searched: list[str]) -> Path | None:
    if _complete(path):
        return path
    snap = _hf_snapshot(path) if (path / "snapshots").is_dir() else None
    if snap is not None and _complete(snap):
        return snap
    searched.append(f"{path} (local folder; needs config.yaml, model.pt or model.safetensors, tokens.txt)")
    return None


def modelscope_dirs(ms_id: str) -> list[Path]:
    """Where ModelScope keeps `org/name`: under $MODELSCOPE_CACHE and ~/.cache/modelscope, old and new layouts."""
    roots = [Path(os.environ["MODELSCOPE_CACHE"])] if os.environ.get("MODELSCOPE_CACHE") else []
    roots.append(Path.home() / ".cache" / "modelscope")
    out: list[Path] = []
    for root in roots:
        for sub in ("hub/models", "hub", "models", ""):
            p = (root / sub / ms_id) if sub else (root / ms_id)
            if p not in out:
                out.append(p)
    return out


def huggingface_dir(hf_id: str) -> Path:
    """`models--org--name` in the Hugging Face hub cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache)."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if not cache:
        home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
        cache = str(Path(home) / "hub")
    return Path(cache).expanduser() / ("models--" + hf_id.replace("/", "--"))


def _reachable(url: str, timeout_s: float = 3.0) -> bool:
    """Whether a TCP connection to the hub's host opens within `timeout_s` (saves the hub clients' long retries
    when offline)."""
    parsed = urllib.parse.urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "", parsed.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def _hub_download(hub: str, repo: str, url: str, module: str, searched: list[str]) -> Path | None:
    """One hub's snapshot download; any failure (package missing, offline, no such repo) is noted in `searched`."""
    if not _reachable(url):
        searched.append(f"{hub} download of {repo}: not tried ({url} unreachable: offline?)")
        return None
    try:
        if module == "modelscope":
            from modelscope.hub.snapshot_download import snapshot_download
        else:
            from huggingface_hub import snapshot_download
    except ImportError:
        searched.append(f"{hub} download of {repo}: not tried ({module} not installed: emostudio[hub])")
        return None
    try:
        path = Path(snapshot_download(repo))
    except Exception as e:  # noqa: BLE001 - any hub failure just adds to the searched list
        searched.append(
            f"{hub} download of {repo}: failed ({type(e).__name__}: {' '.join(str(e).split())[:200]})"
        )
        return None
    if _complete(path):
        return path
    searched.append(f"{hub} download of {repo}: {path} lacks config.yaml or weights")
    return None


def _download(ms_id: str, hf_id: str, searched: list[str]) -> Path | None:
    """Try ModelScope then Hugging Face."""
    ms_url = os.environ.get("MODELSCOPE_DOMAIN", "www.modelscope.cn")
    ms_url = ms_url if ms_url.startswith("http") else "https://" + ms_url
    hf_url = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    return _hub_download("ModelScope", ms_id, ms_url, "modelscope", searched) or _hub_download(
        "Hugging Face", hf_id, hf_url, "huggingface_hub", searched
    )


def find_model(model: str | os.PathLike = DEFAULT_MODEL, allow_download: bool = True) -> tuple[Path, str]:
    """(folder, canonical id): a local folder first, then the ModelScope cache, the Hugging Face cache, then a
    hub download. Raises ModelNotFoundError listing every place searched."""
    text = os.fspath(model)
    searched: list[str] = []
    path = Path(text).expanduser()
    if path.is_file() and path.name in ("model.pt", "model.safetensors", "config.yaml"):
        path = path.parent  # a file inside the model folder names the folder
    if path.exists():
        found = _local_folder(path, searched)
        if found is None:
            raise ModelNotFoundError(text, searched, "is a folder without a complete model")
        return found, str(path.resolve())
    searched.append(f"{path} (no such local folder)")
    ids = hub_ids(text)
    if ids is None:
        raise ModelNotFoundError(text, searched, "is neither a local folder nor a known model id")
    ms_id, hf_id = ids
    for d in modelscope_dirs(ms_id):
        if _complete(d):
            return d, ms_id
        searched.append(f"{d} (ModelScope cache)")
    hf = huggingface_dir(hf_id)
    snap = _hf_snapshot(hf)
    if snap is not None and _complete(snap):
        return snap, ms_id
    searched.append(f"{hf} (Hugging Face cache, snapshot from refs/main)")
    if allow_download:
        found = _download(ms_id, hf_id, searched)
        if found is not None:
            return found, ms_id
    else:
        searched.append("hub download: not allowed (allow_download=False)")
    raise ModelNotFoundError(text, searched)


# -- reading -------------------------------------------------------------------------------------------------


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, prefixes stripped and wrapper dicts unwrapped. Never unpickles objects:
    `torch.load(weights_only=True)` or safetensors. Raises CheckpointError naming the file and the problem."""
    if path.suffix == ".safetensors":
        try:
            obj = safetensors.torch.load_file(str(path))
        except (safetensors.SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from e
    else:
        try:
            try:
                obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as e:
                if "mmap" not in str(e):
                    raise
                obj = torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format
        except pickle.UnpicklingError as e:
            text = str(e)
            if "Weights only load failed" not in text or "global" not in text.lower():
                raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({text[:300]})") from e
            detail = next((ln.strip() for ln in text.splitlines() if "Unsupported global" in ln), "")
            raise CheckpointError(
                f"{path}: refused: the file holds pickled Python objects, not just tensors, and loading it could "
                f"run code. Only tensor checkpoints are read (torch.load weights_only=True). {detail[:300]}"
            ) from e
        except (RuntimeError, EOFError, OSError, ValueError) as e:
            raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({str(e)[:300]})") from e
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


def load_weights_(encoder: Emotion2vecEncoder, state: dict[str, torch.Tensor], where: str) -> None:
    """Strictly copy FunASR-named tensors into `encoder`: every parameter must be present with its shape and
    every checkpoint tensor must be used or known-unused (decoder, EMA). Raises CheckpointError naming keys."""
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
    if unexpected:
        problems.append(
            f"unexpected tensors (not in the model, not known-unused): {_names(sorted(unexpected))}"
        )
        if "proj.weight" in unexpected and encoder.head is None:
            problems.append(
                "the checkpoint has a classification head (proj) but the folder has no tokens.txt"
            )
    if problems:
        raise CheckpointError(f"{where}: checkpoint does not match its config.yaml; " + "; ".join(problems))
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(found[name])


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
    tokens = L.read_tokens(path.read_text(encoding="utf-8"))
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


def load_folder(folder: Path) -> tuple[Emotion2vecEncoder, dict, list[str], list[str | None], bool]:
    """(encoder on CPU fp32 in eval mode, config, tokens, labels, is_random) from a complete model folder."""
    config = _read_yaml(folder / "config.yaml")
    tokens, labels = _read_tokens(folder)
    weights = _weights_file(folder)
    if weights is None:
        raise CheckpointError(f"{folder}: no model.safetensors or model.pt")
    with torch.device("meta"):
        encoder = Emotion2vecEncoder.from_config(config["model_conf"], len(tokens))
    encoder = encoder.to_empty(device="cpu")
    load_weights_(encoder, read_state_dict(weights), str(weights))
    is_random = _is_random(folder, config)
    if weights.suffix == ".safetensors":
        with safetensors.safe_open(str(weights), "pt") as f:
            is_random = is_random or (f.metadata() or {}).get(RANDOM_FLAG) == "true"
    return encoder.eval(), config, tokens, labels, is_random


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
        labels: list[str | None] = [L.normalise_token(t) for t in tokens]
    else:
        folder, model_id = find_model(model, allow_download)
        encoder, _, tokens, labels, is_random = load_folder(folder)
        source = str(folder)
    encoder = encoder.to(device=dev, dtype=dt).eval()
    return LoadedModel(encoder, tokens, labels, model_id, source, is_random, arch_info(encoder), dev, dt)


# -- writing -------------------------------------------------------------------------------------------------


def _configuration_json(weights: str, random: bool) -> dict:
    meta = {
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
    encoder, _, tokens, _, is_random = load_folder(folder)
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
