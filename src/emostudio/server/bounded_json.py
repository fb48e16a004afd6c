"""JSON from clients with its size and nesting bounded before it is parsed: a message nested 200,000 deep must
be a clear refusal, never a RecursionError in the handler."""

from __future__ import annotations

import json
import re

MAX_TEXT_CHARS = 64 * 1024  # a control message (start / stop / ping) is a few hundred characters
MAX_DEPTH = 32
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class JsonRefused(ValueError):
    """The text is too large (`too_large`), too deeply nested (`too_deep`) or not JSON (`not_json`)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { in JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for ch in _STRINGS.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads(text: str, max_chars: int = MAX_TEXT_CHARS, max_depth: int = MAX_DEPTH):
    """json.loads for a client's message; JsonRefused when it is too large, too deep or not JSON."""
    if len(text) > max_chars:
        raise JsonRefused("too_large", f"a text message of {len(text)} characters; at most {max_chars}")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonRefused("too_deep", f"a JSON message nested {depth} deep; at most {max_depth}")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise JsonRefused("not_json", f"not JSON ({getattr(e, 'msg', type(e).__name__)})") from None
