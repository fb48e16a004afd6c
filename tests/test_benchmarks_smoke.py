"""The benchmark harness runs end to end in its smoke mode (tiny model, FunASR included) and its FLOP counter
matches a hand count. No timing assertions: only that every measurement exists and is well formed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package beside `src`, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.flops import bf16_peak, count_flops, flops_per_audio_second  # noqa: E402
from emostudio.model.checkpoint import _package_text  # noqa: E402
from emostudio.model.encoder import EncoderConfig  # noqa: E402

pytestmark = pytest.mark.integration


def config(arch: str) -> EncoderConfig:
    return EncoderConfig.from_model_conf(yaml.safe_load(_package_text(f"{arch}.yaml"))["model_conf"], 9)


def test_flops_tiny_one_second_by_hand():
    # tiny: 7 convs of 64 channels, D=64, 4 heads, mlp 256, 1 prenet + 2 blocks, 10 extra tokens, pos conv
    # 2 layers of k=19, 4 groups; 16000 samples -> frames after each conv:
    frames = [3199, 1599, 799, 399, 199, 99, 49]
    conv = 2 * 3199 * 64 * 1 * 10 + sum(
        2 * n * 64 * 64 * k for n, k in zip(frames[1:], [3, 3, 3, 3, 2, 2], strict=True)
    )
    proj = 2 * 49 * 64 * 64
    pos = 2 * (2 * 49 * 64 * 16 * 19)
    tokens = 59
    linear = 3 * 2 * tokens * (3 * 64 * 64 + 64 * 64 + 2 * 64 * 256)
    attention = 3 * 4 * tokens * tokens * 64
    head = 2 * 64 * 9
    f = count_flops(config("tiny"), 16000)
    assert (f.frames, f.tokens) == (49, 59)
    assert (f.conv_frontend, f.feature_proj, f.positional_conv) == (conv, proj, pos)
    assert (f.transformer_linear, f.attention, f.head) == (linear, attention, head)
    assert f.total == conv + proj + pos + linear + attention + head
    assert count_flops(config("tiny"), 16000, frame_head=True).head == 50 * head


def test_flops_plus_large_grows_with_attention():
    cfg = config("plus_large")
    f10 = count_flops(cfg, 160000)
    # 12 layers x 24 D^2 per token dominates: 12 * 2 * 509 * 12 * 1024^2
    assert f10.transformer_linear == 12 * 2 * 509 * 12 * 1024 * 1024
    assert f10.attention == 12 * 4 * 509 * 509 * 1024
    assert (
        flops_per_audio_second(cfg, 30.0)
        > flops_per_audio_second(cfg, 10.0)
        > flops_per_audio_second(cfg, 3.0)
    )
    with pytest.raises(ValueError, match="receptive field"):
        count_flops(cfg, 399)


def test_bf16_peak_lookup():
    assert bf16_peak("NVIDIA H100 80GB HBM3") == 989e12
    assert bf16_peak("NVIDIA H100 PCIe") == 756e12
    assert bf16_peak("NVIDIA GeForce GTX 1080") is None


def test_smoke_suite_end_to_end(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    md = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--suite", "smoke", "--work-dir", str(tmp_path / "work"),
         "--results-dir", str(tmp_path / "results"), "--results-md", str(md)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "emostudio vs FunASR" in proc.stdout and "cold start" in proc.stdout
    [path] = (tmp_path / "results").glob("*-smoke.json")
    r = json.loads(path.read_text())
    assert r["suite"] == "smoke" and r["arch"] == "tiny"
    assert set(r["cold_start"]) == {"ours-fp32", "ours-int8", "funasr"}
    assert all(v["median_s"] > 0 for v in r["cold_start"].values())
    for key, res in r["latency"].items():
        rows = {(x["clip_s"], x["granularity"]) for x in res["latency"]}
        assert rows == {(1.0, "utterance"), (1.0, "frame"), (2.0, "utterance"), (2.0, "frame")}, key
        assert res["peak_rss_mb"] > 50
        for x in res["latency"]:
            assert x["median_s"] > 0 and len(x["probs"]) == 9 and abs(sum(x["probs"]) - 1) < 1e-4
    # same checkpoint, same audio: our fp32 probabilities agree with FunASR's (parity through files, end to end)
    for x in r["latency"]["ours-fp32"]["latency"]:
        assert x["prob_drift_vs_funasr"] < 1e-4
    assert 0 < r["latency"]["ours-int8"]["prob_drift_vs_ours_fp32"] < 0.05
    assert r["corpus"]["clips"] == 4
    for key, t in r["throughput"].items():
        assert t["files"] == 4 and t["audio_s_per_s"] > 0, key
    assert r["throughput"]["ours-fp32"]["runner"] == "emostudio.batch.run_batch"
    for key in ("ours-fp32", "ours-int8"):  # seconds inside the model's scoring, part of the run's wall time
        t = r["throughput"][key]
        assert 0 < t["model_s"] <= t["wall_s"], t
        # frame/utterance cost from back-to-back pairs on the first clip
        pairs = r["latency"][key]["frame_pairs"]
        assert pairs["clip_s"] == 1.0 and len(pairs["ratios"]) == 2 and pairs["median"] > 0, pairs
    eng = r["engine"]
    assert eng["measured"] and {x["precision"] for x in eng["runs"]} == {"fp32", "bf16"}
    assert all(x["audio_s_per_s"] > 0 and x["mfu_bf16"] is None for x in eng["runs"])
    # fp32 efficiency: a GEMM rate, the encode and its Linears timed for both systems
    assert set(r["efficiency"]) == {"ours-fp32", "funasr"}
    for runs in r["efficiency"].values():
        for x in runs[0]["rows"]:
            assert x["flops"] > x["linear_flops"] > 0
            for mode, threads in (("wall", 2), ("cpu", 1)):
                m = x[mode]
                assert m["threads"] <= threads and m["gemm_flops_per_s"] > 0 and m["s"] > 0, m
                assert m["linears"] == 12 and m["linear_s"] > 0 and 0 < m["linear_share_of_time"] < 1, m
    # long-form: every system finished both lengths, with its own peak RSS and an RTF
    rows = {(x["system"], x["minutes"]): x for x in r["long"]["rows"]}
    assert set(rows) == {(s, m) for s in ("ours-fp32", "funasr") for m in (0.25, 0.5)}
    for x in rows.values():
        assert "stopped" not in x and x["rtf"] > 0 and x["peak_rss_bytes"] > 50e6, x
        # the child's own peak (VmHWM); wait4's figure also carries this parent's high-water mark (the kernel
        # updates the two at different moments, so they may differ by a few pages the other way)
        assert x["peak_rss_bytes"] <= 1.01 * x["wait4_maxrss_bytes"], x
        assert abs(sum(x["probs"]) - 1) < 1e-4 and x["audio_s"] == pytest.approx(60 * x["minutes"], abs=0.01)
    names = [t["name"] for t in r["derived"]["targets"]]
    assert (
        "long-form RTF 0.5 min / 0.25 min (ours-fp32)" in names
        and "peak RSS GB at 0.5 min (ours-fp32)" in names
    )
    assert any(n.startswith("cold start") for n in names) and any(
        n.startswith("frame/utterance") for n in names
    )
    assert all(t["ratio"] > 0 and t["met"] in (True, False) for t in r["derived"]["targets"])
    text = md.read_text()
    assert (
        "suite `smoke`" in text and r["json_name"] in text and "| target | measured | wanted | met |" in text
    )
    assert (
        "| length | system | analysis s |" in text
        and "| system | run | clip | mode | GEMM GFLOP/s just before |" in text
    )


def test_matmul_flops_from_profiler_shapes():
    from benchmarks.profile_encode import matmul_flops

    assert matmul_flops("aten::mm", [[509, 1536], [1536, 512]]) == 2 * 509 * 1536 * 512
    assert matmul_flops("aten::addmm", [[4096], [509, 1024], [1024, 4096], [], []]) == 2 * 509 * 1024 * 4096
    assert matmul_flops("aten::gelu", [[1, 509, 4096]]) == 0


def test_profile_encode_runs_on_the_tiny_model(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.profile_encode", "--arch", "tiny", "--clip-s", "2", "--reps", "1",
         "--top", "500", "--work-dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tiny fp32, 2 s clip, 1 thread(s):" in proc.stdout
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith(("aten::addmm ", "aten::mm "))]
    assert len(rows) >= 2, proc.stdout
    rates = [row.split()[-1] for row in rows]
    # every GEMM row ends with its GFLOP/s (the 9-class head, 1 x 64 x 9, rounds to 0.0 on one decimal)
    assert all(re.fullmatch(r"\d+\.\d", rate) for rate in rates), rows
    assert max(float(rate) for rate in rates) > 0, rows


def test_a_long_form_child_past_its_memory_bound_is_stopped_and_recorded(tmp_path):
    """The bound that stops FunASR on long files: a child whose RSS passes it is killed, and the row says so."""
    from benchmarks.run import bounded_child

    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")  # never read: the child passes 0.05 GB while importing torch
    r = bounded_child({"system": "ours", "task": "long", "model": "demo", "path": str(wav)}, 0.05, 300)
    assert r["stopped"]["reason"] == "RSS passed 0.05 GB" and r["stopped"]["rss_bytes"] > 0.05e9
    assert r["peak_rss_bytes"] > 0.05e9 and r["process_wall_s"] > 0


@pytest.mark.parametrize("kind", ["onnx", "compile"])
def test_alternative_engines_run_and_match_ours(tmp_path, kind):
    """The probes behind RESULTS.md's "engines tried" table still run, and (fp32) compute our numbers, so
    their timings compare like with like."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.alternatives", kind, "--arch", "tiny", "--clips", "1,2.5",
         "--reps", "1", "--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path / "results")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    [path] = (tmp_path / "results").glob(f"*-alt-{kind}-fp32.json")
    r = json.loads(path.read_text())
    assert [x["clip_s"] for x in r["rows"]] == [1.0, 2.5]
    for x in r["rows"]:
        assert x["ours_s"] > 0 and x["candidate_s"] > 0
        assert x["max_prob_diff"] < 1e-4 and x["max_feature_diff"] < 1e-3
    assert all(v > 0 for v in r["one_off"].values() if isinstance(v, float))
    assert "| clip | ours s | candidate s |" in proc.stdout


def test_adapt_bench_runs_on_a_warm_cache(tmp_path, capsys):
    from benchmarks import adapt_bench

    args = ["--clips", "40", "--speakers", "8", "--arch", "tiny", "--bootstrap", "20", "--no-baseline"]
    args += ["--dir", str(tmp_path)]
    assert adapt_bench.main(args) == 0  # it raises when a clip had to be scored: the cache must be warm
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| 40 |"))
    cells = [c.strip(" *") for c in row.strip("|").split("|")]
    assert cells[1] == "64" and cells[2] == "5"  # tiny's 64-d embeddings, 5 folds
    assert all(float(c) >= 0 for c in cells[3:9]) and cells[9] == "–"  # every stage timed; no baseline asked
    assert 0.0 <= float(cells[10]) <= 1.0
    assert "cpu pressure before" in out
