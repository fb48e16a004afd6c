"""Untrustworthy checkpoints and caches: every case a clear CheckpointError naming the file and what is wrong,
checked before anything big is allocated, without torch's advice or warnings reaching the user."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emostudio.errors import EmoStudioError, InferenceError
from emostudio.model.checkpoint import (
    CheckpointError,
    ModelNotFoundError,
    find_model,
    init_random,
    load_model,
)

pytestmark = pytest.mark.integration

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return init_random(tmp_path_factory.mktemp("tiny") / "m", "tiny", seed=3)


def _copy(tiny: Path, dst: Path) -> Path:
    return Path(shutil.copytree(tiny, dst))


def _edit_config(folder: Path, edit) -> Path:
    cfg = yaml.safe_load((folder / "config.yaml").read_text())
    edit(cfg["model_conf"])
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg))
    return folder


def _refused(folder: Path, *phrases: str) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CheckpointError) as err:
            load_model(folder, device="cpu")
    message = str(err.value)
    for phrase in phrases:
        assert phrase in message, message
    assert "weights_only=False" not in message and not message.rstrip().endswith("()"), message
    assert not [w for w in caught if "torch" in str(w.filename)], [str(w.message) for w in caught]
    return message


def test_nan_weights_are_refused_naming_the_tensor(tiny, tmp_path):
    d = _copy(tiny, tmp_path / "nan")
    ckpt = torch.load(d / "model.pt", weights_only=True)
    ckpt["model"]["d2v_model.blocks.0.attn.qkv.weight"][0, 0] = float("nan")
    torch.save(ckpt, d / "model.pt")
    _refused(d, "NaN/Inf in", "blocks.0.attn.qkv.weight", "model.pt")


@pytest.mark.parametrize(
    ("key", "value", "phrase"),
    [
        ("embed_dim", "sixty-four", "`model_conf.embed_dim` must be an integer, got 'sixty-four'"),
        ("embed_dim", 2**31, "`model_conf.embed_dim` = 2147483648 is out of range"),
        ("num_heads", 0, "`model_conf.num_heads` = 0 is out of range"),
        ("depth", -1, "`model_conf.depth` = -1 is out of range"),
        ("mlp_ratio", "lots", "`model_conf.mlp_ratio` must be a number"),
        ("norm_affine", "yes", "`model_conf.norm_affine` must be true or false"),
    ],
)
def test_config_values_are_typed_and_ranged(tiny, tmp_path, key, value, phrase):
    d = _edit_config(_copy(tiny, tmp_path / "cfg"), lambda mc: mc.__setitem__(key, value))
    _refused(d, phrase, "config.yaml")


def test_a_config_describing_a_huge_model_is_refused_before_allocating(tiny, tmp_path):
    def edit(mc):
        mc["embed_dim"], mc["num_heads"], mc["depth"] = 8192, 64, 128

    d = _edit_config(_copy(tiny, tmp_path / "huge"), edit)
    _refused(d, "parameters", "emotion2vec models have under")


def test_feature_spec_repeat_bomb_is_refused(tiny, tmp_path):
    def edit(mc):
        mc["modalities"]["audio"]["feature_encoder_spec"] = "[(64, 10, 5)] * 1000000000"

    _refused(_edit_config(_copy(tiny, tmp_path / "bomb"), edit), "feature_encoder_spec", "repeat count")


@pytest.mark.parametrize(
    ("name", "data", "phrases"),
    [
        ("random_bytes", np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes(), ("not a readable PyTorch checkpoint",)),
        ("empty", b"", ("empty (0 bytes)",)),
        ("plain_pickle", pickle.dumps({"a": [1, 2, 3], "b": "text"}), ("not a readable PyTorch checkpoint",)),
        ("pickled_object", pickle.dumps({"x": shutil.copyfile}, protocol=2), ("refused", "pickled Python objects")),
    ],
)  # fmt: skip
def test_bad_weight_files_are_refused_cleanly(tiny, tmp_path, name, data, phrases):
    d = _copy(tiny, tmp_path / name)
    (d / "model.pt").write_bytes(data)
    _refused(d, "model.pt", *phrases)


def test_binary_tokens_file_is_refused(tiny, tmp_path):
    d = _copy(tiny, tmp_path / "tok")
    (d / "tokens.txt").write_bytes(b"\xff\xfe\x00angry\n\x80\x81")
    _refused(d, "tokens.txt", "not UTF-8")


def test_cli_shows_no_traceback_warning_or_unsafe_advice(tiny, tmp_path):
    d = _copy(tiny, tmp_path / "cli")
    (d / "model.pt").write_bytes(pickle.dumps([1, 2, 3]))
    wav = tmp_path / "x.wav"
    from hostile import wav_bytes

    wav.write_bytes(wav_bytes(np.sin(np.arange(16000) / 5) * 0.3, 16000))
    done = subprocess.run(
        [sys.executable, "-m", "emostudio", "analyze", str(wav), "--model", str(d), "--offline", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Cannot load the model" in done.stderr and "model.pt" in done.stderr
    for bad in ("Traceback", "UserWarning", "weights_only=False", "FutureWarning"):
        assert bad not in done.stderr, done.stderr


def test_huggingface_ref_is_never_followed_outside_the_cache(tiny, tmp_path):
    outside = _copy(tiny, tmp_path / "outside_model")  # a complete model folder outside the cache
    repo = tmp_path / "hf" / "models--emotion2vec--emotion2vec_plus_large"
    (repo / "refs").mkdir(parents=True)
    (repo / "snapshots").mkdir()
    rel = os.path.relpath(outside, repo / "snapshots")
    (repo / "refs" / "main").write_text(rel)  # ../../../outside_model
    assert (repo / "snapshots" / rel).resolve() == outside.resolve()
    with pytest.raises(ModelNotFoundError):
        find_model("iic/emotion2vec_plus_large", allow_download=False)
    # a proper commit hash inside the cache is followed
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(tiny, repo / "snapshots" / commit)
    (repo / "refs" / "main").write_text(commit)
    assert find_model("iic/emotion2vec_plus_large", allow_download=False)[0] == repo / "snapshots" / commit


def test_non_finite_scores_never_reach_a_result_file(tiny, tmp_path):
    """Weights broken after loading (bad RAM, a bug) give a typed error, and every JSON written stays valid."""
    from hostile import good_files

    from emostudio.batch import read_results, run_batch
    from emostudio.recognize import Recognizer

    model = load_model(tiny, device="cpu")
    with torch.no_grad():
        model.encoder.head.weight[0, 0] = float("nan")
    rec = Recognizer(model=model)
    files = good_files(tmp_path / "good", 2)
    with pytest.raises(InferenceError, match="non-finite scores"):
        rec.analyze(files[0], output_dir=tmp_path / "runs")
    outcomes = rec.analyze_many(files, output_dir=tmp_path / "runs")
    assert all(isinstance(o.error, EmoStudioError) and o.error.code == "inference_failed" for o in outcomes)
    summary = run_batch(_items(files), tmp_path / "job", recognizer=rec, workers=0)
    assert summary.failed == 2
    assert {r["error_code"] for r in read_results(tmp_path / "job").to_pylist()} == {"inference_failed"}
    for path in (tmp_path).rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constants)


def _items(files):
    from emostudio.records import InputItem

    return [InputItem(f"f{i}", str(f)) for i, f in enumerate(files)]


def _no_constants(name: str):
    raise AssertionError(f"invalid JSON constant {name}")
