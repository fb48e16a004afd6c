"""The error answers every /v1 route may give, documented in the OpenAPI schema with their one JSON shape
`{"error": {"code", "message"}}` (so that clients and schema checkers know each status the API returns)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorEnvelope(BaseModel):
    """Every error the server answers."""

    error: ErrorBody


STATUSES = {
    400: "malformed request (e.g. a broken multipart body)",
    401: "a token is required (Authorization: Bearer …)",
    403: "a path outside the allowed folders",
    404: "no such route, run, evaluation, speaker or file",
    405: "wrong method for this route (see the Allow header)",
    413: "upload, form field or archive too large",
    415: "not audio, or an unsupported format",
    421: "a host name or page origin this server does not answer to (DNS rebinding guard)",
    422: "invalid parameters or unusable input",
    429: "the server is busy (see Retry-After)",
    503: "the model is not loaded yet, or the server is shutting down",
    507: "the server's disk is full",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text} for status, text in STATUSES.items()
}
