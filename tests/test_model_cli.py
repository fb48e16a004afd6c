"""`emostudio model init-random | convert | info` through the real argument parser."""

from __future__ import annotations

import argparse
import json

import pytest

from emostudio.cli import model_cmd

pytestmark = pytest.mark.unit


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    model_cmd.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_init_random_convert_info(tmp_path, capsys):
    assert run(["model", "init-random", str(tmp_path / "r"), "--arch", "tiny", "--seed", "3"]) == 0
    assert (tmp_path / "r" / "model.pt").is_file()
    assert run(["model", "convert", str(tmp_path / "r"), str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "model.safetensors").is_file()
    capsys.readouterr()
    assert run(["model", "info", str(tmp_path / "c"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["is_random"] is True and info["arch"]["name"] == "tiny" and info["labels"][3] == "happy"
    assert run(["model", "info", "demo"]) == 0
    out = capsys.readouterr().out
    assert "RANDOM" in out and "生气/angry → angry" in out


def test_errors_exit_1_with_the_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run(["model", "info", "seed"]) == 1
    err = capsys.readouterr().err
    assert "emotion2vec_plus_seed" in err and "--model demo" in err and "emostudio[hub]" in err
    with pytest.raises(SystemExit):
        run(["model", "init-random", str(tmp_path / "x"), "--arch", "huge"])
