"""Disk full on the server: one mapping, the one /v1/analyze uses (an OSError writing results → OutputError,
HTTP 507 in the error envelope), for evaluations and live streams too."""

from __future__ import annotations

import errno
from typing import TypeGuard

from emostudio.errors import OutputError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
WS_DISK_FULL = 4507  # WebSocket close code: the server's disk is full


def is_disk_full(exc: BaseException) -> TypeGuard[OSError]:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def disk_full_error(exc: OSError, what: str) -> OutputError:
    """The OutputError (→ 507) for a full disk while doing `what` ("saving the upload", …)."""
    return OutputError(f"the server's disk is full while {what} ({exc.strerror or exc}); try again later")
