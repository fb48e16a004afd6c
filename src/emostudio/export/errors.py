"""The error of the export package."""

from __future__ import annotations

from emostudio.errors import EmoStudioError


class ExportError(EmoStudioError):
    """An export cannot be made: an unknown format, a missing library, a run that is not there."""

    code = "export_error"
