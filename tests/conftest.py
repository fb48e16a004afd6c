"""Shared fixtures: a tiny random checkpoint in the official layout, and a Recognizer on it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A randomly initialised tiny emotion2vec checkpoint written as model.pt + config.yaml + tokens.txt."""
    from emostudio.model.checkpoint import init_random

    return init_random(tmp_path_factory.mktemp("tiny_model"), arch="tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from emostudio.model.checkpoint import load_model

    return load_model(str(tiny_model_dir), device="cpu")


@pytest.fixture(scope="session")
def recognizer(tiny_model):
    from emostudio.recognize import Recognizer

    return Recognizer(model=tiny_model)


TIERS = ("unit", "integration", "slow", "browser", "gpu")


# the files that take longest (CI's "slowest durations": a 3-hour file, the benchmark smoke run, kill -9 trials,
# FunASR parity), then the tiers by how long their files run: scripts/run-tests hands files to its workers in this
# order (--no-loadscope-reorder), so the long ones start first and the two workers finish together (xdist's own
# order, most tests first, started these few-test files last: the run ended on one of them alone)
LONGEST_FILES = (
    "test_memory.py",
    "test_benchmarks_smoke.py",
    "test_profiles_faults.py",
    "test_model_parity.py",
    "test_batch_kill.py",
)
TIER_ORDER = ("slow", "browser", "integration", "gpu", "unit")


def _file_order(item) -> tuple[int, int]:
    """(place among LONGEST_FILES or after them, place of the file's tier in TIER_ORDER)."""
    name = item.path.name
    tier = next((m.name for m in item.iter_markers() if m.name in TIERS), "unit")
    first = LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)
    return first, TIER_ORDER.index(tier)


def pytest_collection_modifyitems(config, items):
    """Every test sits in exactly one tier (README "Development"): `pytestmark = pytest.mark.TIER` at the top of
    its file, or one tier mark on the test itself where a file mixes tiers. A test with none or several fails the
    collection, so `-m unit` (`scripts/run-tests --fast`) can never silently leave a test out or run it twice.
    Then the files are put in the order their workers should start them (LONGEST_FILES), each file's tests kept
    together and in their own order."""
    _check_tiers(items)
    rank: dict[str, tuple[int, int]] = {}
    count: dict[str, int] = {}
    for item in items:  # a file ranks by its first test (files mixing tiers keep one place)
        rank.setdefault(str(item.path), _file_order(item))
        count[str(item.path)] = count.get(str(item.path), 0) + 1
    # then, as xdist would, files with more tests first; stable: a file's tests stay in their order
    items.sort(key=lambda item: (*rank[str(item.path)], -count[str(item.path)]))


def _check_tiers(items) -> None:
    wrong = []
    for item in items:
        tiers = sorted({mark.name for mark in item.iter_markers() if mark.name in TIERS})
        if len(tiers) != 1:
            wrong.append(f"{item.nodeid}: {', '.join(tiers) or 'no tier'}")
    if wrong:
        raise pytest.UsageError(
            f"every test needs exactly one of the markers {', '.join(TIERS)} (tests/conftest.py):\n  "
            + "\n  ".join(wrong)
        )


def pytest_ignore_collect(collection_path, config):
    """With `-m unit` alone (`scripts/run-tests --fast`), a test file that never names the unit marker holds no
    unit test, so it is not even imported: importing the other tiers' files (the web stack, the browser driver,
    Ray) was most of the fast tier's start-up, on every worker. The whole suite still collects and checks them."""
    if config.option.markexpr.strip() != "unit" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return True if "pytest.mark.unit" not in collection_path.read_text(encoding="utf-8") else None


@pytest.fixture(scope="module")
def tiny_service(tmp_path_factory, tiny_model_dir):
    """A server Service (no UI, no HTTP) on the tiny model, loaded and ready: for tests that call the web UI's
    callbacks directly. The server stack is imported here, so test runs that never use it do not load it."""
    from emostudio.server.analyze.service import Service
    from emostudio.server.settings import ServerSettings

    out = tmp_path_factory.mktemp("service")
    svc = Service(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=out / "o", ui=False
        )
    )
    svc.start()
    assert svc.wait_ready(120)
    yield svc
    svc.close()
