"""Error types shared by every layer. Each names what failed and why, in words a user can act on.

Every error Emotion Studio raises on purpose is an `EmoStudioError` with a short machine-readable `code`
(also the JSON error code of the REST API and the `error_code` column of batch jobs).
"""

from __future__ import annotations

import os
import unicodedata


def printable(text: object) -> str:
    """`text` with control characters escaped (a newline in a file name shows as \\n), everything else as is."""
    s = os.fspath(text) if isinstance(text, os.PathLike) else str(text)
    if all(unicodedata.category(ch) != "Cc" for ch in s):
        return s
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" else ch for ch in s
    )


class EmoStudioError(Exception):
    """Base class for every error Emotion Studio raises on purpose."""

    code: str = "error"


class UsageError(EmoStudioError, ValueError):
    """A call's arguments are wrong (bad option value, wrong type); raised before any work is done."""

    code = "bad_argument"


class OutputError(EmoStudioError):
    """Results cannot be written where asked (read-only folder, a file in the way, disk full)."""

    code = "output_error"


class InferenceError(EmoStudioError):
    """The model failed on one input for a reason that is not the input's fault as far as we can tell."""

    code = "inference_failed"


class AudioError(EmoStudioError):
    """A problem with one input file; the message always names the file."""

    code = "audio_error"

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{printable(self.path)}: {problem}")

    def __reduce__(self):  # picklable across process pools despite the two-argument __init__
        return (type(self), (self.path, self.problem))


class ModelError(EmoStudioError):
    """A model could not be found, loaded or checked."""

    code = "model_error"


class BatchError(EmoStudioError):
    """A problem with a list of inputs or a batch job as a whole: an unreadable manifest, a busy output folder,
    a settings clash with an earlier run."""

    code = "batch_error"


class InternalError(EmoStudioError):
    """An unexpected failure (a bug) while handling one input; it is that input's alone."""

    code = "internal"
