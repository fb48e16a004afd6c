"""What every matplotlib chart shares: the fonts for a language, text drawn literally, PNG bytes out.

Charts are drawn with matplotlib's object API (no pyplot state, so worker threads can draw), one at a time
under a lock (rc_context changes the global rcParams while a chart is drawn). Chinese needs a font with CJK
glyphs: the first installed of `CJK_FONTS` (Debian/Ubuntu: `apt install fonts-noto-cjk`; macOS and Windows
ship PingFang / Microsoft YaHei). Without one, Chinese charts draw empty boxes and a warning is logged once.
Text is never read as mathtext: a speaker id like `$\\alpha$` is drawn as typed.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from collections.abc import Callable
from typing import Any, Literal

log = logging.getLogger("emostudio.charts")
_LOCK = threading.Lock()
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
LATIN_FONT = "DejaVu Sans"  # ships with matplotlib


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None) or next(
        (n for n in sorted(names) if "CJK" in n), None
    )


@functools.cache
def _warn_no_cjk() -> None:
    log.warning(
        "no font with Chinese glyphs is installed: Chinese chart texts show as boxes (install fonts-noto-cjk)"
    )


def font_families(lang: str) -> list[str]:
    """Fonts to draw `lang` with, in fallback order: a glyph missing in one comes from the next (data such as
    a Chinese speaker id can appear in an English chart too, so the CJK font is always in the list)."""
    cjk = cjk_font()
    if cjk is None:
        if lang == "zh":
            _warn_no_cjk()
        return [LATIN_FONT]
    return [cjk, LATIN_FONT] if lang == "zh" else [LATIN_FONT, cjk]


def figure(width_in: float, height_in: float, layout: Literal["constrained", "tight"] = "constrained"):
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=110, layout=layout)


def png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def chart(fn: Callable[..., Any]) -> Callable[..., bytes]:
    """Decorate a function that builds a Figure (taking `lang=`) so it returns PNG bytes, drawn with the
    fonts for `lang` and no mathtext, one chart at a time."""

    @functools.wraps(fn)
    def wrapper(*args, lang: str = "en", **kwargs) -> bytes:
        import matplotlib

        rc: dict[str, Any] = {
            "font.family": font_families(lang),
            "font.size": 9,
            "text.parse_math": False,
            "svg.hashsalt": "emostudio",
        }
        with _LOCK, matplotlib.rc_context(rc):  # type: ignore[arg-type]
            return png(fn(*args, lang=lang, **kwargs))

    return wrapper
