"""Error types shared by every layer. Each names what failed and why, in words a user can act on."""

from __future__ import annotations


class EmoStudioError(Exception):
    """Base class for every error Emotion Studio raises on purpose."""

    code: str = "error"


class AudioError(EmoStudioError):
    """A problem with one input file; the message always names the file."""

    code = "audio_error"

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelError(EmoStudioError):
    """A model could not be found, loaded or checked."""

    code = "model_error"
