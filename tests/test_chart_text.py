"""Chart texts are drawn literally (issue 25 item 7): speaker ids and model names such as `$\\foo$` or `a$^$b` are
never read as matplotlib mathtext, on every chart path (trend, evaluation charts, cluster map)."""

from __future__ import annotations

import html

import numpy as np
import pytest
from test_profiles import weekly

from emostudio.cli import main
from emostudio.embeddings import cluster_map_png, cluster_vectors
from emostudio.evaluate import charts as ev_charts
from emostudio.profiles import ProfileStore, trend
from emostudio.profiles.charts import trend_html, trend_png
from emostudio.render import charts as render_charts

pytestmark = pytest.mark.unit

NAMES = ("$\\foo$", "a$^$b")


@pytest.fixture
def drawn(monkeypatch):
    """Every Figure a chart draws, kept after its PNG is made."""
    figures = []
    real = render_charts.png

    def keep(fig):
        figures.append(fig)
        return real(fig)

    monkeypatch.setattr(render_charts, "png", keep)
    return figures


def _texts(fig) -> list:
    from matplotlib.text import Text

    return [x for x in fig.findobj(Text) if x.get_text()]


def _literal(fig, name: str) -> None:
    hits = [x for x in _texts(fig) if name in x.get_text()]
    assert hits, [x.get_text() for x in _texts(fig)]
    assert all(not x.get_parse_math() for x in hits)


@pytest.mark.parametrize("speaker", NAMES)
def test_trend_charts_draw_speaker_ids_as_typed(speaker, drawn, tmp_path, capsys):
    tr = trend(weekly(speaker, [2, 4, 6, 8]), tz="UTC")
    for lang in ("en", "zh"):
        assert trend_png(tr, lang=lang)[:4] == b"\x89PNG"
        _literal(drawn[-1], speaker)
    assert html.escape(speaker) in trend_html(tr)  # the page shows it whole
    with ProfileStore(tmp_path / "s") as store:  # and through the CLI: PNG + HTML written, exit 0
        store.add(weekly(speaker, [2, 4, 6, 8]))
    args = ["profile", "trend", "--speaker", speaker, "--tz", "UTC", "--out", str(tmp_path / "c")]
    assert main([*args, "--store", str(tmp_path / "s")]) == 0
    _literal(drawn[-1], speaker)
    assert sorted(p.suffix for p in (tmp_path / "c").iterdir()) == [".html", ".png"]


def test_evaluation_and_cluster_charts_draw_names_as_typed(drawn):
    labels = ["angry", "sad"]
    bins = [{"lo": 0.0, "hi": 1.0, "n": 2, "accuracy": 0.5, "confidence": 0.6}]
    for name in NAMES:
        ev_charts.confusion(labels, [[1, 1], [0, 2]], model=name)
        _literal(drawn[-1], name)
        ev_charts.models([{"model": name, "wa": 0.5, "ua": 0.5, "macro_f1": 0.4}])
        _literal(drawn[-1], name)
        ev_charts.history([{"model": name, "time": "2026-01-05T10:00:00+00:00", "wa": 0.5, "ua": 0.4}])
        _literal(drawn[-1], name)
        cluster_map_png(
            cluster_vectors(np.random.default_rng(0).standard_normal((6, 4)), 2), None, title=name
        )
        _literal(drawn[-1], name)
    ev_charts.reliability(bins, 0.1, model=NAMES[0])
    _literal(drawn[-1], NAMES[0])
