"""Optional speech recognition with a local FunASR model folder (SenseVoice-Small or Paraformer), to get a
transcript when none is given. SenseVoice also tags each stretch with its own emotion, kept beside ours.

The folder must hold FunASR's layout (config.yaml + model.pt + tokenizer files, as ModelScope ships it). It is
loaded with FunASR's `AutoModel` from the folder only: the path is checked first (AutoModel downloads from a hub
when a path does not exist), `disable_update=True`, and no VAD/punctuation model is asked for (those would be
fetched from a hub); long recordings are transcribed stretch by stretch along our own speech segments instead.
FunASR reads model.pt with torch.load, whose default on torch >= 2.6 loads tensors only (weights_only).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emostudio.errors import EmoStudioError
from emostudio.messages import t as text_of

SAMPLE_RATE = 16000
# SenseVoice's emotion tags → our 9 classes (EMO_UNKNOWN: no tag)
SENSEVOICE_EMOTIONS = {
    "HAPPY": "happy",
    "SAD": "sad",
    "ANGRY": "angry",
    "NEUTRAL": "neutral",
    "FEARFUL": "fearful",
    "DISGUSTED": "disgusted",
    "SURPRISED": "surprised",
}
SENSEVOICE_LANGUAGES = {"zh", "en", "yue", "ja", "ko", "nospeech"}
_TAG_RE = re.compile(r"<\|([^|]*)\|>")
SUPPORTED_KINDS = {"SenseVoiceSmall": "sensevoice"}  # + any model class whose name contains "Paraformer"
TRANSCRIPT_NEEDED = text_of("text_transcript_needed", "en")
TRANSCRIPT_NEEDED_ZH = text_of("text_transcript_needed", "zh")


class AsrError(EmoStudioError):
    """Speech recognition cannot run: FunASR missing, the folder unusable, or recognition failed."""

    code = "asr_error"


@dataclass
class Transcript:
    """What the ASR model heard. `emotion` is SenseVoice's own tag as one of our 9 keys (None: no tag)."""

    text: str
    model: str  # folder name
    kind: str  # "sensevoice" | "paraformer"
    language: str | None = None  # SenseVoice's language tag (zh, en, yue, ja, ko, nospeech)
    emotion: str | None = None
    emotion_raw: str | None = None  # the tag as SenseVoice wrote it, e.g. "ANGRY"
    events: list[str] = field(default_factory=list)  # SenseVoice's audio events (Speech, BGM, Laughter …)
    segments: list[dict] = field(default_factory=list)  # start_s, end_s, text, emotion per stretch

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "kind": self.kind,
            "text": self.text,
            "language": self.language,
            "emotion": self.emotion,
            "emotion_raw": self.emotion_raw,
            "events": self.events,
            "segments": self.segments,
        }


@contextlib.contextmanager
def _quiet():
    """FunASR prints banners and INFO logs while building; keep the CLI's output clean."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        root.setLevel(level)


def funasr_available() -> bool:
    try:
        with _quiet():  # its import prints notices about ffmpeg
            import funasr  # noqa: F401
    except ImportError:
        return False
    return True


def fbank_backend_available() -> bool:
    """FunASR computes filterbanks with torchaudio or kaldi-native-fbank; one must be installed."""
    for name in ("kaldi_native_fbank", "torchaudio"):
        try:
            __import__(name)
            return True
        except ImportError:
            continue
    return False


def model_kind(folder: Path) -> tuple[str, dict]:
    """("sensevoice" | "paraformer", config) of a FunASR model folder; AsrError naming what is wrong."""
    import yaml

    if not folder.is_dir():
        raise AsrError(f"{folder}: ASR model folder not found")
    config_path = folder / "config.yaml"
    if not config_path.is_file():
        raise AsrError(
            f"{folder}: not a FunASR model folder (no config.yaml); download SenseVoice-Small "
            "(iic/SenseVoiceSmall) or a Paraformer model from ModelScope and pass its folder"
        )
    if not (folder / "model.pt").is_file():
        raise AsrError(f"{folder}: no model.pt weights in the ASR model folder")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AsrError(f"{config_path}: unreadable config ({exc})") from exc
    name = str(config.get("model", ""))
    if name in SUPPORTED_KINDS:
        return SUPPORTED_KINDS[name], config
    if "paraformer" in name.lower():
        return "paraformer", config
    raise AsrError(
        f"{folder}: model {name or '(none)'} is not a supported ASR model; use SenseVoice-Small or Paraformer"
    )


class AsrModel:
    """A FunASR ASR model loaded from a local folder. `transcribe(waveform, spans)` → Transcript."""

    def __init__(self, folder: str | os.PathLike, device: str = "cpu"):
        self.folder = Path(folder).expanduser().resolve()
        self.kind, _ = model_kind(self.folder)
        if not funasr_available():
            raise AsrError(
                "FunASR is not installed, so the audio cannot be transcribed: pip install 'emostudio[asr]', "
                f"or give the transcript with --text / --text-file ({TRANSCRIPT_NEEDED_ZH})"
            )
        if not fbank_backend_available():
            raise AsrError(
                "FunASR needs kaldi-native-fbank (or torchaudio) to compute features: "
                "pip install kaldi-native-fbank (included in 'emostudio[asr]')"
            )
        os.environ.setdefault("FUNASR_DISABLE_UPDATE", "1")
        try:
            with _quiet():
                from funasr import AutoModel

                self.model = AutoModel(
                    model=str(self.folder),
                    disable_update=True,
                    device=device,
                    log_level="ERROR",
                    disable_pbar=True,
                )
        except Exception as exc:  # FunASR raises many kinds; say which folder and why
            raise AsrError(
                f"{self.folder}: FunASR could not load the model: {type(exc).__name__}: {exc}"
            ) from exc
        self.name = self.folder.name
        self._lock = threading.Lock()

    def transcribe(self, waveform: np.ndarray, spans: list[tuple[float, float]] | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 audio, stretch by stretch along `spans` (seconds; default: all of it)."""
        waveform = np.asarray(waveform, dtype=np.float32)
        spans = spans or [(0.0, len(waveform) / SAMPLE_RATE)]
        pieces = [
            waveform[int(a * SAMPLE_RATE) : max(int(b * SAMPLE_RATE), int(a * SAMPLE_RATE) + 1)]
            for a, b in spans
        ]
        try:
            with self._lock, _quiet():
                outputs = self.model.generate(
                    input=pieces, language="auto", use_itn=True, batch_size=1, disable_pbar=True
                )
        except Exception as exc:
            raise AsrError(f"speech recognition failed: {type(exc).__name__}: {exc}") from exc
        segments = []
        for (a, b), out in zip(spans, outputs, strict=False):
            segments.append(
                {"start_s": round(a, 3), "end_s": round(b, 3), **parse_rich_text(str(out.get("text", "")))}
            )
        return combine_segments(segments, self.name, self.kind)


def parse_rich_text(raw: str) -> dict:
    """SenseVoice's rich output (`<|zh|><|HAPPY|><|Speech|><|withitn|>今天天气真好。`) → text, language, emotion,
    events. Paraformer's plain text passes through with no tags."""
    tags = _TAG_RE.findall(raw)
    text = _TAG_RE.sub("", raw).strip()
    language = next((t for t in tags if t in SENSEVOICE_LANGUAGES), None)
    emotion_raw = next((t for t in tags if t in SENSEVOICE_EMOTIONS or t == "EMO_UNKNOWN"), None)
    skip = SENSEVOICE_LANGUAGES | set(SENSEVOICE_EMOTIONS) | {"EMO_UNKNOWN", "withitn", "woitn"}
    events = [t for t in tags if t not in skip]
    return {
        "text": text,
        "language": language,
        "emotion": SENSEVOICE_EMOTIONS.get(emotion_raw or ""),
        "emotion_raw": emotion_raw,
        "events": events,
    }


def combine_segments(segments: list[dict], model: str, kind: str) -> Transcript:
    """One Transcript from per-stretch results: texts joined (no space between Chinese pieces), the language
    and emotion that cover the most seconds."""
    texts = [s["text"] for s in segments if s["text"]]
    joined = ""
    for t in texts:
        cjk_join = joined and _is_cjk(joined[-1]) and _is_cjk(t[0])
        joined += ("" if not joined or cjk_join else " ") + t
    language_s: Counter = Counter()
    emotion_s: Counter = Counter()
    events: list[str] = []
    tagged = False
    for s in segments:
        dur = max(s["end_s"] - s["start_s"], 1e-3)
        if s.get("language"):
            language_s[s["language"]] += dur
        if s.get("emotion"):
            emotion_s[s["emotion"]] += dur
        tagged = tagged or s.get("emotion_raw") is not None
        events += [e for e in s["events"] if e not in events]
    emotion = emotion_s.most_common(1)[0][0] if emotion_s else None
    raw = {v: k for k, v in SENSEVOICE_EMOTIONS.items()}.get(emotion or "", "EMO_UNKNOWN" if tagged else None)
    return Transcript(
        text=joined,
        model=model,
        kind=kind,
        language=language_s.most_common(1)[0][0] if language_s else None,
        emotion=emotion,
        emotion_raw=raw,
        events=events,
        segments=segments,
    )


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


_MODELS: dict[tuple[str, str], AsrModel] = {}
_MODELS_LOCK = threading.Lock()


def load_asr(folder: str | os.PathLike, device: str = "cpu") -> AsrModel:
    """An AsrModel for a folder, loaded once per process."""
    key = (str(Path(folder).expanduser().resolve()), device)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = AsrModel(folder, device)
        return _MODELS[key]
