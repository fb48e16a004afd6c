"""What the browser tests share: the Chromium they drive, its flags, where screenshots go, and a page that may
reach the local server only (every other request is blocked and recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, sync_playwright
from signals import write_wav

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# chromium's fake microphone (no permission prompt), fed by --use-file-for-fake-audio-capture
MICROPHONE_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def need_chromium() -> None:
    """Fail (never skip) when the browser is missing, saying how to install it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")


def keep_local(page, base_url: str) -> list[str]:
    """Let `page` reach `base_url` (and data:/blob: URLs) only; returns the list the blocked URLs are added to."""
    outside: list[str] = []

    def only_local(route):
        url = route.request.url
        if url.startswith((base_url + "/", "data:", "blob:")):
            return route.continue_()
        outside.append(url)
        return route.abort()

    page.route("**/*", only_local)
    return outside


@contextmanager
def chromium_with_microphone(mic: Path, samples: np.ndarray) -> Iterator[Browser]:
    """Chromium whose fake microphone plays `samples` (float, 16 kHz mono, written to `mic`), looping them."""
    need_chromium()
    write_wav(mic, samples)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, *MICROPHONE_ARGS, f"--use-file-for-fake-audio-capture={mic}"],
        )
        yield b
        b.close()
