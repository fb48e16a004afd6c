"""Reading an upload of a REST request: its bytes, at most the server's max_upload_bytes, with a sanitised name."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from emostudio.messages import format_size
from emostudio.server.http import ApiError
from emostudio.server.settings import ServerSettings, safe_filename


class HasSettings(Protocol):
    """What `read_upload` needs of the server's Service: its settings (the upload limit)."""

    settings: ServerSettings


async def read_upload(service: HasSettings, upload: UploadFile, field: str = "file") -> tuple[bytes, str]:
    """The upload's bytes (at most max_upload_bytes) and a sanitised display name."""
    name = safe_filename(upload.filename)
    limit = service.settings.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        raise ApiError(
            413, "too_large", f"{name}: upload is {_size(upload.size)}; the limit is {_size(limit)}"
        )
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "too_large", f"{name}: upload is larger than the {_size(limit)} limit")
    if not data:
        raise ApiError(422, "empty", f"{name}: file is empty (0 bytes)")
    return data, name


def _size(n: int) -> str:
    return format_size(n)


async def save_upload(upload: UploadFile, dest: Path) -> Path:
    """Copy an upload (already size-checked by the body limit) to dest, off the event loop."""

    def copy() -> None:
        upload.file.seek(0)
        with open(dest, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)

    await run_in_threadpool(copy)
    return dest
