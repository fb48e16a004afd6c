"""Speed of the text side of text + speech (emostudio.multimodal): backend load, per-sentence reading, a long
transcript, and the fusion step. `python -m benchmarks.text_speed` prints a table (CPU only, offline)."""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import time

import numpy as np

ZH = ["我今天太开心了，真是太棒了！", "这个产品质量太差了，用了两天就坏了。", "我们明天下午三点开会。"]
EN = [
    "I had a wonderful time at the party last night.",
    "This is terrible, I hate it.",
    "The meeting is at 3 pm.",
]


def _cold_load(backend: str) -> float:
    """Seconds to import and load a backend in a fresh interpreter (what the first request pays)."""
    code = (
        "import time; t=time.perf_counter(); from emostudio.multimodal import get_backend; "
        f"get_backend({backend!r}).score('好'); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _ms(fn, repeat: int = 50) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    from emostudio.multimodal import analyze_text, text_block

    rows = []
    for backend in ("cnsenti+snownlp", "vader"):
        rows.append((f"cold load {backend} (s)", f"{_cold_load(backend):.2f}"))
    for name, sentences in (("zh", ZH), ("en", EN)):
        analyze_text(sentences[0])  # warm
        ms = statistics.median(_ms(lambda s=s: analyze_text(s)) for s in sentences)
        rows.append((f"one {name} sentence, warm (ms, median)", f"{ms:.2f}"))
    for name, unit in (("zh", ZH[0]), ("en", EN[0] + " ")):
        long = unit * (10_000 // len(unit) + 1)
        rows.append(
            (f"{name} 10000-character transcript (ms)", f"{_ms(lambda t=long: analyze_text(t), 3):.0f}")
        )
    big = "I love this place. " * 60_000  # 1.1 MB: cleaned, cut to 10000 characters, read
    rows.append(
        ("1.1 MB transcript, cut to 10000 characters (ms)", f"{_ms(lambda: analyze_text(big), 3):.0f}")
    )
    reading = analyze_text(ZH[0])
    speech = np.full(9, 1 / 9)
    rows.append(
        ("fusion + agreement of a ready reading (ms)", f"{_ms(lambda: text_block(speech, reading), 200):.3f}")
    )
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    width = max(len(r[0]) for r in rows)
    print(f"text + speech, CPU: {cpu}")
    for k, v in rows:
        print(f"{k:<{width}}  {v:>8}")


if __name__ == "__main__":
    main()
