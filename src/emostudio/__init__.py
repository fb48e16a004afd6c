"""Emotion Studio: speech emotion recognition on emotion2vec+.

Public API: Recognizer, Result, load_model, __version__.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Recognizer", "Result", "load_model", "__version__"]

if TYPE_CHECKING:
    from emostudio.model.checkpoint import load_model
    from emostudio.recognize import Recognizer
    from emostudio.results import Result


def __getattr__(name: str):
    # lazy, so `import emostudio` (e.g. for the CLI's --version) does not import torch
    if name == "Recognizer":
        from emostudio.recognize import Recognizer

        return Recognizer
    if name == "Result":
        from emostudio.results import Result

        return Result
    if name == "load_model":
        from emostudio.model.checkpoint import load_model

        return load_model
    raise AttributeError(name)
