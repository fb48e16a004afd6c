"""A warning of adaptation that can be said in either language.

`Note` is the English sentence itself (a `str`: what metrics.json's `warnings` and the CLI print), and it keeps
the catalogue key and fields it was made from, so report.html can show it in Chinese too (`adaptation.notes`).
"""

from __future__ import annotations

from typing import Any

from emostudio.messages import t


class Note(str):
    """A warning: `Note("adapt_warn_cache", n=2)` reads as the English text of that catalogue key."""

    key: str
    fields: dict[str, Any]

    def __new__(cls, key: str, **fields: Any) -> Note:
        note = super().__new__(cls, t(key, "en", **fields))
        note.key, note.fields = key, fields
        return note

    def text(self, lang: str) -> str:
        """The warning in `lang` ("zh" or "en")."""
        return str(t(self.key, lang, **self.fields))

    def to_dict(self) -> dict[str, Any]:
        """{"key", "fields"}: how metrics.json keeps it, to be said again in any language."""
        return {"key": self.key, "fields": dict(self.fields)}
