"""Finding, strict and safe loading, converting and making checkpoints (tiny random models, no network)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
import yaml

from emostudio.model import labels as L
from emostudio.model.checkpoint import (
    RANDOM_FLAG,
    CheckpointError,
    ModelNotFoundError,
    convert,
    find_model,
    hub_ids,
    init_random,
    load_model,
    model_info,
)

pytestmark = pytest.mark.unit

WAVES = [np.sin(np.linspace(0, 900, n)).astype(np.float32) * 0.1 for n in (9000, 24000)]


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path, monkeypatch):
    """Point every cache at empty temp folders so a real cache on this machine can't answer."""
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return init_random(tmp_path_factory.mktemp("tiny") / "emotion2vec_tiny", "tiny", seed=7)


def outputs(model):
    return model.encoder.encode(WAVES)


def rewrite_checkpoint(src: Path, dst: Path, edit) -> Path:
    shutil.copytree(src, dst)
    ckpt = torch.load(dst / "model.pt", weights_only=True)
    edit(ckpt["model"])
    torch.save(ckpt, dst / "model.pt")
    return dst


def test_init_random_writes_the_official_layout(tiny_dir):
    assert sorted(p.name for p in tiny_dir.iterdir()) == [
        "RANDOM_WEIGHTS.txt",
        "config.yaml",
        "configuration.json",
        "model.pt",
        "tokens.txt",
    ]
    ckpt = torch.load(tiny_dir / "model.pt", weights_only=True)
    assert set(ckpt) == {"model"}
    keys = list(ckpt["model"])
    assert all(k.startswith("d2v_model.") for k in keys)
    assert "d2v_model.modality_encoders.AUDIO.local_encoder.conv_layers.0.0.weight" in keys
    assert "d2v_model.modality_encoders.AUDIO.relative_positional_encoder.1.0.weight" in keys
    assert "d2v_model.blocks.1.attn.qkv.weight" in keys and "d2v_model.proj.weight" in keys
    assert (ckpt["model"]["d2v_model.modality_encoders.AUDIO.alibi_scale"] > 0).all()
    config = yaml.safe_load((tiny_dir / "config.yaml").read_text())
    assert config[RANDOM_FLAG] is True and config["model_conf"]["embed_dim"] == 64
    assert json.loads((tiny_dir / "configuration.json").read_text())[RANDOM_FLAG] is True
    assert L.read_tokens((tiny_dir / "tokens.txt").read_text()) == list(L.OFFICIAL_TOKENS)


def test_init_random_is_seeded(tmp_path, tiny_dir):
    again = torch.load(init_random(tmp_path / "again", "tiny", seed=7) / "model.pt", weights_only=True)[
        "model"
    ]
    other = torch.load(init_random(tmp_path / "other", "tiny", seed=8) / "model.pt", weights_only=True)[
        "model"
    ]
    first = torch.load(tiny_dir / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["d2v_model.proj.weight"], other["d2v_model.proj.weight"])


def test_round_trip_init_convert_load_gives_identical_outputs(tmp_path, tiny_dir):
    original = load_model(tiny_dir, device="cpu")
    assert original.is_random and original.model_id == str(tiny_dir.resolve())
    assert original.labels == list(L.KEYS)
    converted_dir = convert(tiny_dir, tmp_path / "converted")
    assert (converted_dir / "model.safetensors").is_file() and not (converted_dir / "model.pt").exists()
    converted = load_model(converted_dir, device="cpu")
    assert converted.is_random and converted.source == str(converted_dir)
    a, b = outputs(original), outputs(converted)
    assert torch.equal(a.features, b.features) and torch.equal(a.logits, b.logits)
    names = safetensors.torch.load_file(str(converted_dir / "model.safetensors"))
    assert "blocks.0.norm1.weight" in names  # FunASR names, prefix stripped


def test_random_flag_survives_even_without_the_note_file(tmp_path, tiny_dir):
    d = shutil.copytree(tiny_dir, tmp_path / "copy")
    (d / "RANDOM_WEIGHTS.txt").unlink()
    assert load_model(d, device="cpu").is_random
    cfg = (d / "config.yaml").read_text().replace(f"{RANDOM_FLAG}: true", "")
    (d / "config.yaml").write_text(cfg)
    (d / "configuration.json").write_text("{}")
    assert not load_model(d, device="cpu").is_random


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda sd: sd.pop("d2v_model.blocks.1.mlp.fc2.bias"), "missing tensors: blocks.1.mlp.fc2.bias"),
        (
            lambda sd: sd.__setitem__("d2v_model.proj.weight", torch.zeros(5, 64)),
            "wrong shapes: proj.weight (5, 64) (model needs (9, 64))",
        ),
    ],
    ids=["missing", "misshaped"],
)
def test_mismatched_checkpoint_is_refused_naming_the_tensor(tmp_path, tiny_dir, edit, named):
    bad = rewrite_checkpoint(tiny_dir, tmp_path / "bad", edit)
    with pytest.raises(CheckpointError) as e:
        load_model(bad, device="cpu")
    assert named in str(e.value) and "model.pt" in str(e.value)


def test_tensors_the_model_does_not_use_are_ignored_with_a_warning(tmp_path, tiny_dir):
    """As FunASR does: a real download carrying an extra buffer must load; the extra tensor is named."""
    extra = rewrite_checkpoint(
        tiny_dir,
        tmp_path / "extra",
        lambda sd: sd.__setitem__("d2v_model.blocks.9.attn.qkv.weight", torch.zeros(3)),
    )
    m = load_model(extra, device="cpu")
    assert len(m.warnings) == 1 and "blocks.9.attn.qkv.weight" in m.warnings[0] and "ignored" in m.warnings[0]
    assert torch.equal(outputs(m).logits, outputs(load_model(tiny_dir, device="cpu")).logits)


def test_known_unused_tensors_and_wrappers_are_accepted(tmp_path, tiny_dir):
    def edit(sd):
        sd["d2v_model.modality_encoders.AUDIO.decoder.proj.weight"] = torch.zeros(2, 2)
        sd["d2v_model._ema"] = torch.zeros(1)

    ok = rewrite_checkpoint(tiny_dir, tmp_path / "ok", edit)
    assert load_model(ok, device="cpu").warnings == []  # known-unused: no warning at all
    # also: `module.` prefix and a `state_dict` wrapper instead of `model`
    sd = torch.load(ok / "model.pt", weights_only=True)["model"]
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, ok / "model.pt")
    a, b = outputs(load_model(ok, device="cpu")), outputs(load_model(tiny_dir, device="cpu"))
    assert torch.equal(a.logits, b.logits)


class _Exploit:
    """Unpickling this runs `open(marker, "w")`, creating the file: a stand-in for arbitrary code."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_python_object_is_refused_and_never_executed(tmp_path, tiny_dir):
    marker = tmp_path / "pwned"
    bad = shutil.copytree(tiny_dir, tmp_path / "evil")
    sd = torch.load(bad / "model.pt", weights_only=True)
    sd["model"]["d2v_model.extra"] = _Exploit(str(marker))
    torch.save(sd, bad / "model.pt")
    # sanity: the file really would run code when unpickled without the safety net
    with pytest.raises(pickle.UnpicklingError):
        torch.load(bad / "model.pt", weights_only=True)
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        load_model(bad, device="cpu")
    assert not marker.exists()
    torch.load(bad / "model.pt", weights_only=False)  # the unsafe path does execute it
    assert marker.exists()


def test_corrupt_checkpoint_is_a_checkpoint_error(tmp_path, tiny_dir):
    bad = shutil.copytree(tiny_dir, tmp_path / "corrupt")
    (bad / "model.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_model(bad, device="cpu")


def test_loads_from_modelscope_cache(tmp_path, tiny_dir, monkeypatch):
    ms = tmp_path / "ms_root"
    shutil.copytree(tiny_dir, ms / "hub" / "models" / "iic" / "emotion2vec_plus_large")
    monkeypatch.setenv("MODELSCOPE_CACHE", str(ms))
    m = load_model("large", device="cpu", allow_download=False)
    assert m.model_id == "iic/emotion2vec_plus_large"
    assert m.source == str(ms / "hub" / "models" / "iic" / "emotion2vec_plus_large")
    # the older layout, without `models/`
    shutil.copytree(tiny_dir, ms / "hub" / "iic" / "emotion2vec_plus_seed")
    assert load_model("iic/emotion2vec_plus_seed", device="cpu", allow_download=False).source.endswith(
        "hub/iic/emotion2vec_plus_seed"
    )


def test_loads_from_huggingface_cache(tmp_path, tiny_dir, monkeypatch):
    hf = tmp_path / "hf_home"
    repo = hf / "hub" / "models--emotion2vec--emotion2vec_plus_base"
    shutil.copytree(tiny_dir, repo / "snapshots" / "abc123")
    shutil.copytree(tiny_dir, repo / "snapshots" / "old999")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(hf))
    m = load_model("emotion2vec/emotion2vec_plus_base", device="cpu", allow_download=False)
    assert m.model_id == "iic/emotion2vec_plus_base" and m.source == str(repo / "snapshots" / "abc123")
    # the repo folder itself given as a local path also resolves through refs/main
    assert find_model(repo, allow_download=False)[0] == repo / "snapshots" / "abc123"


def test_not_found_lists_every_place_and_how_to_get_weights(tmp_path):
    with pytest.raises(ModelNotFoundError) as e:
        load_model("base", device="cpu", allow_download=False)
    err = e.value
    text = str(err)
    assert any("ms" in s and "hub/models/iic/emotion2vec_plus_base" in s for s in err.searched)
    assert any("models--emotion2vec--emotion2vec_plus_base" in s for s in err.searched)
    assert all(s in text for s in err.searched)
    assert (
        "--model demo" in text and "model.pt + config.yaml + tokens.txt" in text and "emostudio[hub]" in text
    )
    with pytest.raises(ModelNotFoundError, match="neither a local folder nor a known model id"):
        load_model(str(tmp_path / "no" / "such" / "dir"), device="cpu")


def test_incomplete_local_folder_is_not_found(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.yaml").write_text("model_conf: {}\n")
    with pytest.raises(ModelNotFoundError, match="folder without a complete model"):
        load_model(tmp_path / "half", device="cpu")


def test_hub_ids_and_aliases():
    assert hub_ids("large") == ("iic/emotion2vec_plus_large", "emotion2vec/emotion2vec_plus_large")
    assert hub_ids("seed")[0] == "iic/emotion2vec_plus_seed"
    assert hub_ids("emotion2vec/emotion2vec_base_finetuned")[0] == "iic/emotion2vec_base_finetuned"
    assert hub_ids("emotion2vec_plus_base")[1] == "emotion2vec/emotion2vec_plus_base"
    assert hub_ids("not an id") is None


def test_demo_model_and_info(tiny_dir):
    demo = load_model("demo", device="cpu")
    assert demo.is_random and demo.source == "memory" and demo.model_id == "demo"
    out = outputs(demo)
    assert out.logits.shape == (2, 9) and out.features.shape[2] == 64
    info = model_info(tiny_dir)
    assert info["is_random"] and info["arch"]["name"] == "tiny" and info["labels"] == list(L.KEYS)
    assert info["params"] == sum(p.numel() for p in demo.encoder.parameters())


def test_key_logits_reorders_and_masks_unused(tmp_path, tiny_dir):
    d = shutil.copytree(tiny_dir, tmp_path / "unuse")
    tokens = list(L.OFFICIAL_TOKENS)
    tokens[1], tokens[3] = "unuse_1", tokens[1]  # disgusted unused; index 3 now says disgusted; happy absent
    (d / "tokens.txt").write_text("\n".join(tokens))
    m = load_model(d, device="cpu")
    assert m.labels[1] is None and m.labels[3] == "disgusted"
    logits = torch.arange(9.0).repeat(2, 1)
    keyed = m.key_logits(logits)
    assert keyed[0, L.KEYS.index("disgusted")] == 3.0
    assert keyed[0, L.KEYS.index("happy")] == float("-inf")
    assert keyed[0, L.KEYS.index("angry")] == 0.0 and keyed[1, L.KEYS.index("unknown")] == 8.0


def test_bad_tokens_file_names_the_file(tmp_path, tiny_dir):
    d = shutil.copytree(tiny_dir, tmp_path / "badtok")
    (d / "tokens.txt").write_text("\n".join([*L.OFFICIAL_TOKENS[:8], "banana"]))
    with pytest.raises(CheckpointError, match="tokens.txt"):
        load_model(d, device="cpu")


def test_bad_dtype_and_device_are_model_errors():
    from emostudio.errors import ModelError

    with pytest.raises(ModelError, match="dtype"):
        load_model("demo", device="cpu", dtype="int8")
    with pytest.raises(ModelError, match="fp16 needs a CUDA device"):
        load_model("demo", device="cpu", dtype="fp16")
    assert load_model("demo", device="cpu", dtype="bf16").encoder.feature_proj.weight.dtype == torch.bfloat16


def test_real_config_keys_load_into_plus_large_names():
    """The shipped plus_large config builds a model whose FunASR names are those of the notes §4."""
    from emostudio.model.checkpoint import _package_text
    from emostudio.model.encoder import Emotion2vecEncoder
    from emostudio.model.weights import funasr_names

    with torch.device("meta"):
        enc = Emotion2vecEncoder.from_config(
            yaml.safe_load(_package_text("plus_large.yaml"))["model_conf"], 9
        )
    names = set(funasr_names(enc).values())
    assert "modality_encoders.AUDIO.local_encoder.conv_layers.6.2.1.weight" in names
    assert "modality_encoders.AUDIO.relative_positional_encoder.5.0.bias" in names
    assert "modality_encoders.AUDIO.context_encoder.blocks.3.mlp.fc1.weight" in names
    assert "blocks.7.attn.proj.bias" in names and "proj.bias" in names
    assert enc.pos_convs[0].weight.shape == (1024, 64, 19)


def test_a_model_without_a_head_is_described_but_refused_for_recognition(tmp_path, tiny_dir):
    """A folder with no tokens.txt and no head tensors (a pretraining-only checkpoint) loads for `model info`,
    but a Recognizer on it is refused at once instead of failing every input."""
    from emostudio.errors import ModelError
    from emostudio.recognize import Recognizer

    d = shutil.copytree(tiny_dir, tmp_path / "headless")
    (d / "tokens.txt").unlink()
    state = torch.load(d / "model.pt", weights_only=True)["model"]
    torch.save(
        {"model": {k: v for k, v in state.items() if not k.startswith("d2v_model.proj.")}}, d / "model.pt"
    )
    assert model_info(d)["arch"]["vocab_size"] == 0
    with pytest.raises(ModelError, match="no emotion classification head"):
        Recognizer(model=str(d), device="cpu")


def test_missing_tokens_file_with_a_head_says_so(tmp_path, tiny_dir):
    d = shutil.copytree(tiny_dir, tmp_path / "notok")
    (d / "tokens.txt").unlink()
    with pytest.raises(CheckpointError, match="no tokens.txt"):
        load_model(d / "model.pt", device="cpu")  # a file inside the folder names the folder
