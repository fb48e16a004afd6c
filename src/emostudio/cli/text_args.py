"""`emostudio analyze` options for a transcript (--text, --text-file, --asr) and the step that reads it and
fuses it with each result (emostudio.multimodal), kept out of analyze_cmd so that file stays about audio."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from emostudio.cli.common import err_console
from emostudio.messages import t

if TYPE_CHECKING:
    from emostudio.multimodal.asr import AsrModel
    from emostudio.options import TextOptions


def _weight(value: str) -> float:
    try:
        w = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= w <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return w


def add_text_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("text + speech (a transcript fused with the voice)")
    src = g.add_mutually_exclusive_group()
    src.add_argument(
        "--text", metavar="TEXT", help="the transcript of the recording (Chinese, English or both)"
    )
    src.add_argument(
        "--text-file", metavar="F", help="read the transcript from a UTF-8 (or GB18030) text file"
    )
    src.add_argument(
        "--asr",
        metavar="DIR",
        help="transcribe first with a local FunASR model folder (SenseVoice-Small or Paraformer; needs "
        "emostudio[asr]); SenseVoice's own emotion tag is shown beside ours",
    )
    g.add_argument(
        "--text-weight",
        type=_weight,
        default=None,
        metavar="W",
        help="share of the text in the fused scores, 0-1 (default 0.3: the voice leads; 0 = voice only, "
        "1 = text only)",
    )
    g.add_argument(
        "--text-backend",
        default=None,
        metavar="NAME",
        help="auto (default: cnsenti+snownlp for Chinese, vader for English), snownlp, cnsenti, vader, "
        "or hf:DIR (a local Hugging Face text-classification model folder)",
    )


@dataclass
class TextStep:
    """Reads the transcript (or transcribes) and attaches it to each result, rewriting its result.json."""

    options: TextOptions
    text: str | None  # None with asr (--text, --text-file and --asr exclude each other)
    source: str
    asr: AsrModel | None

    def apply(self, result, input_path: str) -> None:
        from emostudio.errors import EmoStudioError
        from emostudio.multimodal import attach_text
        from emostudio.multimodal.attach import attach_asr

        try:
            if self.asr is not None:
                attach_asr(result, self.asr, _waveform(result, input_path), self.options)
            elif self.text is not None:
                attach_text(result, self.text, self.options, source=self.source)
        except EmoStudioError as exc:  # the speech result stands; say why there is no text reading
            err_console.print(
                f"[yellow]⚠ {escape(f'{input_path}: no text reading: {exc}')}[/]", highlight=False
            )


def _waveform(result, input_path: str):
    """The audio the result was computed from: its processed_audio.wav, else the input decoded again."""
    from emostudio.audio import decode
    from emostudio.runs import AUDIO_FILE

    saved = Path(result.output_dir) / AUDIO_FILE if result.output_dir else None
    return decode(saved if saved and saved.is_file() else input_path).waveform


def prepare_text(args: argparse.Namespace, files: list[str]) -> TextStep | None | int:
    """The TextStep for the command line, None without text options, or an exit code after a clear message.

    Everything that can be checked before any audio work is checked here: one input file for --text, the
    transcript file, the text backend (hf: folders are loaded), the ASR folder and FunASR.
    """
    from emostudio.errors import EmoStudioError
    from emostudio.multimodal import clean_text, read_text_file
    from emostudio.multimodal.asr import TRANSCRIPT_NEEDED, TRANSCRIPT_NEEDED_ZH, load_asr
    from emostudio.multimodal.backends import check_backend_spec
    from emostudio.options import DEFAULT_TEXT_WEIGHT, TextOptions

    given = args.text is not None or args.text_file is not None
    if not given and not args.asr:
        if args.text_weight is not None or args.text_backend is not None:
            err_console.print(
                f"[red]{escape(TRANSCRIPT_NEEDED)}\n{escape(TRANSCRIPT_NEEDED_ZH)}[/]", highlight=False
            )
            return 2
        return None
    if given and len(files) != 1:
        err_console.print(
            f"[red]--text/--text-file describe one recording, but {len(files)} inputs were given; give one FILE "
            "(for many files with transcripts use `emostudio batch` with a manifest that has a text column, "
            "or --asr)[/]",
            highlight=False,
        )
        return 2
    try:
        options = TextOptions(
            weight=DEFAULT_TEXT_WEIGHT if args.text_weight is None else args.text_weight,
            backend=check_backend_spec(args.text_backend or "auto"),
        ).check()
        text, source = args.text, "argument"
        if args.text_file is not None:
            text, warnings = read_text_file(args.text_file)
            source = "file"
            for w in warnings:
                err_console.print(f"[yellow]⚠ {escape(w)}[/]", highlight=False)
        asr = None
        if args.asr:
            device = "cuda" if args.device == "cuda" else "cpu"
            if args.device == "auto":
                import torch

                device = "cuda" if torch.cuda.is_available() else "cpu"
            with err_console.status(f"loading ASR model {escape(args.asr)} …"):
                asr = load_asr(args.asr, device)
    except EmoStudioError as exc:
        err_console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        return 2
    if text is not None:
        _warm_up(text, options.backend)
    if text is not None and not clean_text(text).text:
        err_console.print(
            f"[yellow]⚠ {t('text_empty', 'en')} ({t('text_empty', 'zh')})[/]",
            highlight=False,
        )
    return TextStep(options, text, source, asr)


def _warm_up(text: str, backend: str) -> None:
    """Load the backends this transcript needs in the background while the speech model loads and runs
    (SnowNLP and jieba take several seconds to load); the later call waits for the load to finish."""
    import threading

    from emostudio.multimodal import clean_text, detect_language
    from emostudio.multimodal.backends import get_backend
    from emostudio.multimodal.reading import AUTO_BACKEND

    code = detect_language(clean_text(text).text).code
    names = {"mixed": ["cnsenti+snownlp", "vader"]}.get(
        code, [AUTO_BACKEND[code]] if code in AUTO_BACKEND else []
    )
    if backend != "auto":
        names = [backend]

    def load() -> None:
        for name in names:
            try:
                get_backend(name)
            except Exception:  # the real call later reports the error with its message
                return

    threading.Thread(target=load, name="emostudio-text-warmup", daemon=True).start()


def text_lines(result) -> list[str]:
    from emostudio.render.text import describe_text

    return describe_text(result.text.to_dict()) if getattr(result, "text", None) is not None else []
