"""The web UI's pieces without a browser: login when a token is set, the missing-model banner, rendering."""

from __future__ import annotations

import argparse
import html
import re

import pytest
from fastapi.testclient import TestClient

from emostudio.cli import serve_cmd
from emostudio.model.checkpoint import DEFAULT_MODEL
from emostudio.model.labels import KEYS
from emostudio.render import result as render
from emostudio.server import ui
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration


def _doc(recognizer, granularity: str) -> dict:
    from audio_factory import make_voice

    res = recognizer.analyze(make_voice(1.5, 16000), sample_rate=16000, granularity=granularity)
    return {**res.to_dict(), "run_id": "outputs_20240101_000000"}


def test_ui_needs_login_with_token_and_shows_where_it_looked(tmp_path):
    missing = tmp_path / "no_weights_here"
    app = create_app(
        ServerSettings(
            host="0.0.0.0", token="tok", model=str(missing), allow_download=False, outputs=tmp_path / "out"
        )
    )
    service = app.state.service
    assert not service.wait_ready(60)
    with TestClient(app, base_url="http://localhost") as c:
        assert c.get("/config").status_code == 401  # the UI's config and API need a login
        assert c.post("/login", data={"username": "me", "password": "wrong"}).status_code == 400
        assert c.post("/login", data={"username": "me", "password": "tok"}).json() == {"success": True}
        assert c.get("/config").status_code == 200
    banner = ui.status_markdown(service, "en")
    assert str(missing) in banner and "Load the demo model" in banner and "--model demo" in banner
    zh = ui.status_markdown(service, "zh")
    assert "加载演示模型" in zh and "load demo model" not in zh.lower()
    # paths like ~/.cache … ~/.cache must not pair up into markdown strikethrough
    assert "~" not in banner.replace("\\~", "")


def test_render_card_charts_and_language(recognizer):
    doc = _doc(recognizer, "frame")
    zh, en = render.card(doc, "zh"), render.card(doc, "en")
    assert doc["label"]["zh"] in zh and doc["label"]["en"] in zh and doc["band"]["zh"] in zh
    assert "Confidence" in en and doc["band"]["en"] in en and "random weights" in en
    bars = render.score_bars(doc, "en")
    assert bars.count('class="bar-row"') == 9
    widths = [float(w) for w in re.findall(r"width:([0-9.]+)%", bars)]
    assert abs(sum(widths) - 100) < 0.1
    line = render.timeline(doc, "zh")
    strip = re.search(r'<div class="strip tl-strip">(.*?)</div>', line).group(1)
    assert line.count("<polyline") == 9 and strip.count("<span") == doc["frames"]["count"]
    assert all(f'id="tl-an-{k}"' in line for k in KEYS)  # each line can be switched off
    assert render.timeline(_doc(recognizer, "utterance"), "en") == ""
    quality = render.quality(doc, "zh")
    assert all(html.escape(m["label_zh"]) in quality for m in doc["quality"]["metrics"])


def test_long_timelines_are_thinned_for_display():
    steps = 5000
    doc = {
        "frames": {"start_s": [i * 0.1 for i in range(steps)], "scores": [[1 / 9] * 9] * steps, "step_s": 0.1}
    }
    line = render.timeline(doc, "en")
    strip = re.search(r'<div class="strip tl-strip">(.*?)</div>', line).group(1)
    assert 0 < strip.count("<span") <= render.MAX_TIMELINE_STEPS


def test_serve_defaults_to_localhost_7860_and_the_default_model():
    p = argparse.ArgumentParser()
    serve_cmd.register(p.add_subparsers())
    args = p.parse_args(["serve"])
    s = serve_cmd.settings_from_args(args)
    assert (s.host, s.port, s.model, s.token, s.cors_origins) == ("127.0.0.1", 7860, DEFAULT_MODEL, None, [])
    assert s.max_upload_bytes == 100_000_000  # "100 MB" in every message
    bad = p.parse_args(["serve", "--host", "0.0.0.0", "--model", "demo"])
    assert serve_cmd.run(bad) == 2  # refuses to listen on the network without --token
