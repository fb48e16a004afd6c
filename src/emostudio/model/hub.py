"""Where model weights are looked for: a local folder, the ModelScope and Hugging Face caches, a hub download.

Knows folders and hubs, not tensors (that is checkpoint.py). Every place looked at is listed in the error when
nothing is found, with how to get weights. Cache references are followed only inside their cache: a
Hugging Face `refs/main` that names anything but a snapshot of that repository is ignored.
"""

from __future__ import annotations

import os
import re
import socket
import urllib.parse
from pathlib import Path

from emostudio.errors import ModelError
from emostudio.messages import t

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
DEMO_ID = "demo"
_REF = re.compile(r"^[0-9A-Za-z_.-]{1,128}$")  # a snapshot folder's name (a commit hash), never a path


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
            f"  - just to try the workflow: --model demo (a tiny model; {t('random_note', 'en')})",
        ]
        super().__init__("\n".join(lines))


def hub_ids(model: str) -> tuple[str, str] | None:
    """(ModelScope id, Hugging Face id) for a known name, alias or `org/name` id; None if it is none of these."""
    model = ALIASES.get(model, model)
    org, _, name = model.rpartition("/")
    if name in HUB_NAMES and org in ("", "iic", "emotion2vec"):
        return f"iic/{name}", f"emotion2vec/{name}"
    if re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        return model, model
    return None


def _weights_file(folder: Path) -> Path | None:
    for name in ("model.safetensors", "model.pt"):
        if (folder / name).is_file():
            return folder / name
    return None


def weights_file(folder: str | os.PathLike) -> Path:
    """The weights file of a complete model folder (model.safetensors preferred over model.pt)."""
    found = _weights_file(Path(folder))
    if found is None:
        raise ModelError(f"{folder}: no model.safetensors or model.pt")
    return found


def _complete(folder: Path) -> bool:
    return folder.is_dir() and (folder / "config.yaml").is_file() and _weights_file(folder) is not None


def _hf_snapshot(repo_dir: Path) -> Path | None:
    """The snapshot of a Hugging Face cache repo folder (`models--org--name`) that refs/main points at.

    refs/main must hold a name (a commit hash) of a folder directly under `snapshots/`; anything else (a path
    such as `../../x`) is ignored, so a tampered cache can never lead outside itself. Without refs/main: the newest
    snapshot.
    """
    snapshots = repo_dir / "snapshots"
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        try:
            commit = ref.read_text(encoding="ascii", errors="strict").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not _REF.match(commit) or commit in (".", ".."):
            return None
        snap = snapshots / commit
        try:
            inside = snap.resolve().parent == snapshots.resolve()
        except OSError:
            return None
        return snap if inside and snap.is_dir() else None
    snaps = sorted(snapshots.glob("*"), key=lambda p: p.stat().st_mtime) if snapshots.is_dir() else []
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


def huggingface_cache() -> Path:
    """The Hugging Face hub cache: huggingface_hub's own answer when it is installed, else the same rules
    ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), read at call time."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if cache:
        return Path(cache).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE).expanduser()
    except ImportError:
        return Path.home() / ".cache" / "huggingface" / "hub"


def huggingface_dir(hf_id: str) -> Path:
    """`models--org--name` in the Hugging Face hub cache (see `huggingface_cache`)."""
    return huggingface_cache() / ("models--" + hf_id.replace("/", "--"))


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
