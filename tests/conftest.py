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
