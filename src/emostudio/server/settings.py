"""Server settings, bind-address safety and the file names the server accepts from clients (run ids and run
files: emostudio.runs)."""

from __future__ import annotations

import ipaddress
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from emostudio.errors import EmoStudioError

ALLOWED_HOSTS_ENV = "EMOSTUDIO_ALLOWED_HOSTS"
MAX_NAME_BYTES = 255  # a file name on every common file system


def env_list(name: str) -> list[str]:
    """A comma-separated environment variable as a list (empty items dropped)."""
    return [x.strip() for x in os.environ.get(name, "").split(",") if x.strip()]


class UnsafeBindError(EmoStudioError):
    """Binding to a non-loopback address without a token."""

    code = "unsafe_bind"


@dataclass
class ServerSettings:
    """Everything `emostudio serve` can be told. Sizes in bytes, durations in seconds."""

    host: str = "127.0.0.1"
    port: int = 7860
    model: str | None = None  # None: the package default (emostudio.model.checkpoint.DEFAULT_MODEL)
    device: str = "auto"
    dtype: str | None = None
    allow_download: bool = True
    token: str | None = None
    outputs: Path = Path("outputs")
    max_upload_bytes: int = 100_000_000  # 100 MB (decimal, the one unit every message uses)
    max_duration_s: float = 600.0
    queue_size: int = 8  # requests admitted at once (waiting or running); more get 429
    workers: int = 1  # model worker threads
    prepare_threads: int = 2  # decoding / quality / enhancement threads
    max_batch: int = 8  # requests scored in one model call at most
    cors_origins: list[str] = field(default_factory=list)  # empty: no CORS headers at all
    ui: bool = True
    # live streams (WebSocket /v1/stream and the UI's Live tab); each holds one queue slot while it runs
    max_streams: int | None = (
        None  # live streams at once (0: off); below queue_size; None: min(4, queue_size - 1)
    )
    stream_idle_timeout_s: float = 10.0  # a stream that sends nothing this long is ended and freed
    max_stream_s: float = 7200.0  # longest live stream (its audio is spooled to disk under outputs/.live)
    adapter: Path | None = None  # `serve --adapter DIR`: the adapter read from every result (emostudio adapt)
    max_stream_wall_s: float | None = None  # longest live stream in wall-clock time; None: 1.5 × max_stream_s
    # host names besides loopback and the bound address that clients may use (Host / Origin); "*": any.
    # Default: $EMOSTUDIO_ALLOWED_HOSTS, comma-separated (see emostudio.server.hosts)
    allowed_hosts: list[str] = field(default_factory=lambda: env_list(ALLOWED_HOSTS_ENV))

    def __post_init__(self) -> None:
        self.outputs = Path(self.outputs).resolve()
        for name in ("queue_size", "workers", "prepare_threads", "max_batch", "max_upload_bytes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.token is not None and not self.token.strip():
            raise ValueError("token must not be empty")
        if self.max_streams is None:
            self.max_streams = min(4, int(self.queue_size) - 1)
        if not 0 <= int(self.max_streams) < int(self.queue_size):
            raise ValueError(
                f"max_streams must be from 0 to queue_size - 1 ({self.queue_size - 1}) so that uploads keep "
                f"queue slots while streams run, got {self.max_streams!r}"
            )
        if self.max_stream_wall_s is None:
            self.max_stream_wall_s = 1.5 * float(self.max_stream_s)
        if not self.stream_idle_timeout_s > 0 or not self.max_stream_s > 0 or not self.max_stream_wall_s > 0:
            raise ValueError("stream_idle_timeout_s, max_stream_s and max_stream_wall_s must be positive")


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: ServerSettings) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not is_loopback(settings.host) and not settings.token:
        raise UnsafeBindError(
            f"refusing to listen on {settings.host}: anyone on the network could use the server. "
            "Pass --token SECRET (clients send 'Authorization: Bearer SECRET'; the web UI asks for it as "
            "the password), or bind to 127.0.0.1."
        )


def safe_filename(name: str | None, default: str = "upload") -> str:
    """A display-safe base name for a client-supplied file name: no folders, control characters or leading dots,
    at most 120 characters and MAX_NAME_BYTES bytes of UTF-8 (a CJK or emoji name too), its extension kept.

    Used in messages and result.json, and as the name of an uploaded file inside a fresh uploads folder.
    """
    raw = (name or "").replace("\\", "/").split("/")[-1]
    raw = unicodedata.normalize("NFC", raw)
    cleaned = "".join(ch for ch in raw if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    cleaned = re.sub(r"\s+", " ", cleaned).strip().lstrip(".").strip()
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or not stem or len(ext) > 9:
        stem, dot, ext = cleaned, "", ""
    if len(cleaned) > 120:
        stem = stem[: 120 - len(dot + ext)]
    budget = MAX_NAME_BYTES - len((dot + ext).encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip()
    return (stem + dot + ext) if stem else default
