"""Synthetic conversations with known speaker turns (tests and benchmarks/speakers_bench.py).

espeak-ng voices in several languages (en-us, en-gb, cmn, de, fr, es, it) with their variants, pitch (-p) and speed
(-s) varied, 2-4 speakers taking turns of 1-8 s with pauses, 0-15 % of the speech overlapped, pink/white noise at
several SNRs, 30-600 s. Everything is seeded: the same spec gives the same samples and the same reference.
Reference turns: (speaker, start_s, end_s) of each utterance as placed (espeak's leading/trailing silence trimmed).
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly
from signals import mix, pink, white

SR = 16_000

TEXTS = {
    "en": (
        "I called about the invoice you sent last week",
        "the delivery was late again and nobody told me",
        "could you please check the account number for me",
        "we can move the meeting to Thursday afternoon",
        "that sounds fine, let me write it down",
        "I am not sure this is the right department",
        "thank you, that was really helpful",
        "the report needs two more pages before Friday",
    ),
    "cmn": (
        "我想问一下上周的账单是怎么回事",
        "快递又晚到了，也没有人通知我",
        "请帮我查一下这个账号",
        "我们可以把会议改到星期四下午",
        "好的，我先记下来",
        "谢谢你，这真的很有帮助",
    ),
    "de": (
        "ich habe wegen der Rechnung von letzter Woche angerufen",
        "die Lieferung war schon wieder zu spät",
        "können Sie bitte meine Kundennummer prüfen",
        "das klingt gut, ich schreibe es mir auf",
    ),
    "fr": (
        "j'appelle au sujet de la facture de la semaine dernière",
        "la livraison était encore en retard",
        "pouvez-vous vérifier mon numéro de compte",
        "très bien, je le note tout de suite",
    ),
    "es": (
        "llamo por la factura de la semana pasada",
        "el pedido llegó tarde otra vez",
        "muchas gracias, me ha ayudado mucho",
    ),
    "it": (
        "chiamo per la fattura della settimana scorsa",
        "la consegna è arrivata di nuovo in ritardo",
        "va bene, lo scrivo subito",
    ),
}

# (espeak-ng voice, text language, pitch 0-99, words per minute, gain dB): clearly different people
VOICES = (
    ("en-us+m3", "en", 35, 165, 0.0),
    ("en-gb+f4", "en", 70, 180, -3.0),
    ("cmn", "cmn", 50, 170, 2.0),
    ("de+m1", "de", 25, 150, -2.0),
    ("fr+f2", "fr", 80, 175, 0.0),
    ("es+m2", "es", 45, 190, 1.0),
    ("en-us+f3", "en", 60, 140, -1.0),
    ("it+m4", "it", 30, 160, 0.0),
    ("cmn+f3", "cmn", 75, 160, -2.0),
)


@dataclass(frozen=True)
class Spec:
    """One conversation to build: `speakers` voices from VOICES (indices), about `duration_s` long."""

    name: str
    voices: tuple[int, ...]
    duration_s: float
    overlap: float = 0.0  # about this fraction of the speech overlapped (0-0.15): turns barge in 0.4-1.5 s
    snr_db: float | None = None  # None: clean
    noise: str = "pink"
    seed: int = 0


@dataclass
class Conversation:
    spec: Spec
    waveform: np.ndarray  # (samples,) float32 16 kHz
    turns: list[tuple[str, float, float]]  # reference (speaker, start_s, end_s), sorted by start

    @property
    def speakers(self) -> int:
        return len({t[0] for t in self.turns})

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / SR

    def annotation(self):
        """The reference as a pyannote.core.Annotation (uri = spec name)."""
        from pyannote.core import Annotation, Segment

        ann = Annotation(uri=self.spec.name)
        for i, (spk, s, e) in enumerate(self.turns):
            ann[Segment(s, e), i] = spk
        return ann


@functools.lru_cache(maxsize=512)
def utterance(voice: int, text: str) -> np.ndarray:
    """espeak-ng's rendering of `text` in VOICES[voice], 16 kHz, leading/trailing silence trimmed."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is needed (scripts/setup --test installs it: apt-get install espeak-ng)"
    name, _, pitch, wpm, gain_db = VOICES[voice]
    out = subprocess.run(
        [espeak, "-v", name, "-p", str(pitch), "-s", str(wpm), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    x, sr = sf.read(io.BytesIO(out), dtype="float32")
    x = resample_poly(x, SR, sr).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    x = x[loud[0] : loud[-1] + 1] if len(loud) else x[:0]
    return (x / (np.max(np.abs(x)) + 1e-9) * 0.5 * 10 ** (gain_db / 20)).astype(np.float32)


def _turn_audio(rng: np.random.Generator, voice: int) -> np.ndarray:
    """One turn of 1-8 s: sentences of the voice's language, joined by short pauses, cut at 8 s."""
    lang = VOICES[voice][1]
    target = rng.uniform(1.0, 8.0)
    parts: list[np.ndarray] = []
    total = 0.0
    while total < target:
        text = TEXTS[lang][rng.integers(len(TEXTS[lang]))]
        x = utterance(voice, text)
        if parts:
            parts.append(np.zeros(int(rng.uniform(0.1, 0.3) * SR), np.float32))
        parts.append(x)
        total = sum(len(p) for p in parts) / SR
    return np.concatenate(parts)[: int(max(1.0, target) * SR)]


def build(spec: Spec) -> Conversation:
    """The conversation of `spec` (deterministic)."""
    rng = np.random.default_rng(spec.seed)
    placed: list[tuple[int, int, np.ndarray]] = []  # (speaker index, start sample, audio)
    cursor, prev, end = int(rng.uniform(0.2, 1.0) * SR), -1, 0
    order = list(range(len(spec.voices)))
    while cursor < spec.duration_s * SR:
        # each speaker talks early (first round in order), then a random other speaker
        others = [i for i in range(len(spec.voices)) if i != prev] or [0]
        k = order.pop(0) if order else int(rng.choice(others))
        audio = _turn_audio(rng, spec.voices[k])
        start = cursor
        if prev >= 0 and k != prev and rng.random() < min(1.0, spec.overlap * 5):
            start = max(0, end - int(rng.uniform(0.4, 1.5) * SR))  # barge in before the other one ends
        placed.append((k, start, audio))
        end = max(end, start + len(audio))
        cursor = end + int(rng.uniform(0.15, 1.5) * SR)
        prev = k
    speech = np.zeros(end + int(0.5 * SR), np.float32)
    active = np.zeros(len(speech), bool)
    turns = []
    for k, start, audio in placed:
        speech[start : start + len(audio)] += audio
        active[start : start + len(audio)] = True
        turns.append((f"S{k}", start / SR, (start + len(audio)) / SR))
    if spec.snr_db is not None:
        noise = (pink if spec.noise == "pink" else white)(len(speech), seed=spec.seed + 7)
        speech = mix(speech, active, noise, spec.snr_db)
    peak = float(np.max(np.abs(speech)))
    if peak > 0.99:
        speech = speech * (0.99 / peak)
    return Conversation(spec, speech.astype(np.float32), sorted(turns, key=lambda t: (t[1], t[2])))


def overlap_fraction(turns: list[tuple[str, float, float]]) -> float:
    """Seconds with two or more speakers / seconds with any speech."""
    edges = sorted({t for _, s, e in turns for t in (s, e)})
    speech = over = 0.0
    for a, b in zip(edges, edges[1:], strict=False):
        n = sum(1 for _, s, e in turns if s <= a and e >= b)
        speech += (b - a) if n else 0.0
        over += (b - a) if n >= 2 else 0.0
    return over / speech if speech else 0.0


def conversation_set(quick: bool = False) -> list[Spec]:
    """The benchmark set: `quick` = 4 short conversations; else 16 of 30-600 s."""
    quick_set = [
        Spec("q2-clean", (0, 1), 40, overlap=0.0, seed=1),
        Spec("q2-zh-noise", (2, 3), 45, overlap=0.1, snr_db=15, seed=2),
        Spec("q3-mixed", (4, 5, 6), 60, overlap=0.1, snr_db=20, seed=3),
        Spec("q1-solo", (7,), 30, seed=4),
    ]
    if quick:
        return quick_set
    full = [
        Spec("c2-en-clean", (0, 1), 60, seed=11),
        Spec("c2-zh-de", (2, 3), 90, overlap=0.15, snr_db=20, seed=12),
        Spec("c2-fr-es-noisy", (4, 5), 120, overlap=0.1, snr_db=10, noise="white", seed=13),
        Spec("c2-en-it-5db", (6, 7), 60, overlap=0.05, snr_db=5, seed=14),
        Spec("c2-zh-zh", (2, 8), 180, overlap=0.1, snr_db=15, seed=15),
        Spec("c2-long", (0, 4), 600, overlap=0.1, snr_db=20, seed=16),
        Spec("c3-mixed", (1, 3, 5), 120, overlap=0.1, snr_db=15, seed=17),
        Spec("c3-clean", (0, 2, 4), 90, seed=18),
        Spec("c3-noisy", (6, 7, 8), 180, overlap=0.12, snr_db=10, seed=19),
        Spec("c3-long", (1, 2, 7), 300, overlap=0.1, snr_db=20, seed=20),
        Spec("c4-mixed", (0, 2, 4, 6), 180, overlap=0.1, snr_db=15, seed=21),
        Spec("c4-clean", (1, 3, 5, 8), 120, seed=22),
        Spec("c4-noisy", (0, 3, 4, 8), 240, overlap=0.12, snr_db=10, noise="white", seed=23),
        Spec("c1-solo-en", (0,), 30, seed=24),
        Spec("c1-solo-zh", (2,), 45, snr_db=15, seed=25),
        Spec("c2-short", (3, 6), 30, overlap=0.1, seed=26),
    ]
    return full
