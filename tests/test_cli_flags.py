"""`--workers` has one meaning in every command (decode workers); the model's own parallelism is
`serve --model-threads` and `batch --ray --actors`, and the old spellings still work and say what they became."""

from __future__ import annotations

import pytest

from emostudio.cli import build_parser
from emostudio.cli.batch_cmd import _ray_actors
from emostudio.cli.serve_cmd import settings_from_args

pytestmark = pytest.mark.unit


def test_every_workers_help_says_decode_workers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("batch", "evaluate"):
        helps = {a.dest: a.help for a in sub.choices[name]._actions}
        assert helps["workers"].startswith("decode workers"), name
    serve = {a.option_strings[0]: a for a in sub.choices["serve"]._actions if a.option_strings}
    assert serve["--model-threads"].help.startswith("model worker threads")
    assert serve["--workers"].help == "==SUPPRESS=="  # the old spelling: hidden


def test_serve_workers_is_the_old_spelling_of_model_threads(capsys, tmp_path):
    args = build_parser().parse_args(["serve", "--workers", "3", "--outputs", str(tmp_path)])
    assert args.model_threads == 3 and settings_from_args(args).workers == 3
    assert "--workers is now --model-threads" in capsys.readouterr().err
    args = build_parser().parse_args(["serve", "--model-threads", "2", "--outputs", str(tmp_path)])
    assert settings_from_args(args).workers == 2 and capsys.readouterr().err == ""


def test_batch_ray_actors_and_the_old_workers_spelling(capsys):
    parse = build_parser().parse_args
    assert _ray_actors(parse(["batch", "in", "--out", "o", "--ray"])) == 2  # the default as before
    assert _ray_actors(parse(["batch", "in", "--out", "o", "--ray", "--actors", "3"])) == 3
    assert _ray_actors(parse(["batch", "in", "--out", "o", "--ray", "--actors", "0"])) is None  # Ray decides
    assert capsys.readouterr().err == ""
    assert _ray_actors(parse(["batch", "in", "--out", "o", "--ray", "--workers", "4"])) == 4
    assert "--workers is now --actors" in capsys.readouterr().err
