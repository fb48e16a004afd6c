"""Pieces shared by several sub-commands: model options, input expansion, console output, exit codes.

Exit codes of every command: 0 all done; 1 done, but some inputs failed (each one's error is printed);
2 nothing was done: bad options, no inputs, no model, an output place that cannot be written;
3 an unexpected internal error (a bug: the message says what; EMOSTUDIO_DEBUG=1 prints the traceback);
4 `evaluate` only: past a stability threshold; 5 `profile trend --fail-on-alert` only: the alert is raised;
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

from emostudio.errors import AudioError, EmoStudioError
from emostudio.messages import LANGS, t
from emostudio.options import CHANNEL_MODES, GRANULARITIES
from emostudio.runs import read_result

EXIT_OK, EXIT_FAILED_INPUTS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_ALERT = 5  # `profile trend --fail-on-alert`: the alert is raised (4 is `evaluate`'s EXIT_UNSTABLE)

console = Console(soft_wrap=True)  # never break paths or messages across lines
err_console = Console(stderr=True, soft_wrap=True)


def say(text: str, style: str | None = None, *, err: bool = False) -> None:
    """Print `text` as is: user-supplied strings (file names like `take [red] two.wav`) are never read as markup."""
    (err_console if err else console).print(Text(text, style=style or ""), highlight=False)


@contextlib.contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[tuple[Progress, TaskID]]:
    """A transient bar on stderr for work over files: label, bar, done/total, an `info` text, time left."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}", markup=False),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        yield bar, bar.add_task(label, total=total, info="")


def result_doc(result) -> dict:
    """What `--json` prints for a Result: its to_dict() plus `output_dir` and, as in its result.json, the `run_id`
    and `files` of its run folder (None and {} when it was not saved)."""
    doc = result.to_dict()
    folder = result.output_dir
    saved = read_result(folder) if folder else {}
    doc.update(
        output_dir=str(folder) if folder else None, run_id=saved.get("run_id"), files=saved.get("files", {})
    )
    return doc


def files_bar(total: int, what: str) -> Progress:
    """A transient bar on stderr (not started: use it in `with`): `what`, bar, done/total, time left; hidden for
    fewer than 2 items."""
    return Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=total < 2,
        transient=True,
    )


RECENT_STAGES = 64  # (input, stage) shares FilesProgress remembers: more than the inputs worked on at once


class FilesProgress:
    """A transient display on stderr while files are analysed: files done of total (2 or more files), and the
    file being worked on with its stage (decoding, speaker turns, the model) and that stage's share done — one
    long recording takes minutes. `stage` may be called from worker threads. Use it in `with`.
    A batch job tells its own count (`files`, with an `info` text: rate, failures) and names its inputs by id
    (`stage_of`)."""

    def __init__(self, names: list[str], what: str = "analysing"):
        self.names = names
        self.bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[count]}", markup=False),
            TextColumn("{task.fields[info]}", markup=False),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        self._files = self.bar.add_task(
            what, total=len(names), count=f"0/{len(names)}", info="", visible=len(names) > 1
        )
        self._stage = self.bar.add_task("", total=1.0, count="", info="", visible=False)
        self._at: tuple[str, str] | None = None
        self._fractions: dict[tuple[str, str], float] = {}  # (input, stage) → its share so far, recent ones
        self._done = 0
        self._lock = threading.Lock()

    def __enter__(self) -> FilesProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def stage(self, index: int, key: str, fraction: float) -> None:
        """Input `index` is `fraction` through stage `key` (a catalogue key: said in English)."""
        name = os.path.basename(self.names[index]) if 0 <= index < len(self.names) else str(index)
        self.stage_of(name, key, fraction)

    def stage_of(self, name: str, key: str, fraction: float) -> None:
        """The input called `name` is `fraction` through stage `key`. Each (input, stage) keeps its own share,
        so two inputs worked on at once (decode workers, one scoring group) never send each other's bar back."""
        with self._lock:
            at = (name, key)
            done = max(
                self._fractions.pop(at, 0.0), min(fraction, 1.0)
            )  # a part scored again never goes back
            self._fractions[at] = done  # the newest last; only the recent ones are kept
            while len(self._fractions) > RECENT_STAGES:
                del self._fractions[next(iter(self._fractions))]
            count = f"{done:.0%}"
            if self._at == at:
                self.bar.update(self._stage, completed=done, count=count)
            else:  # another file or stage: its own bar, drawn at its own share at once
                self._at = at
                label = f"{name}: {t(key, 'en')}"
                self.bar.reset(self._stage, total=1.0, visible=True, description=label, info="", count=count)
                self.bar.update(self._stage, completed=done)

    def file_done(self) -> None:
        with self._lock:
            self._done += 1
            self.bar.update(self._files, completed=self._done, count=f"{self._done}/{len(self.names)}")

    def files(self, done: int, total: int, info: str = "") -> None:
        """Set the files row: `done` of `total`, and `info` after the count."""
        with self._lock:
            self.bar.update(
                self._files, total=total, completed=done, count=f"{done}/{total}", info=info, visible=True
            )


def fail(text: str) -> None:
    """Print an error line on stderr."""
    say(f"✗ {text}", "red", err=True)


class RenamedFlag(argparse.Action):
    """A flag's old spelling, hidden from --help: it still works and says once what it became."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        say(f"note: {option_string} is now {self.new}; use that name", "yellow", err=True)
        setattr(namespace, self.dest, values)


def add_runtime_args(
    p: argparse.ArgumentParser,
    device: str = "where the model runs",
    dtype: str = "precision (default fp32); int8: CPU only, about 2x faster, probabilities move ~1e-3",
) -> None:
    """--device, --dtype and --offline: where and at which precision the model runs, and whether it may download."""
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help=device)
    p.add_argument("--dtype", default=None, choices=["fp32", "bf16", "fp16", "int8"], help=dtype)
    p.add_argument("--offline", action="store_true", help="never try a hub download")


def add_lang_arg(p: argparse.ArgumentParser, texts: str = "the chart texts") -> None:
    """--lang zh|en (default en): the language of `texts`."""
    p.add_argument("--lang", choices=list(LANGS), default="en", help=f"language of {texts} (default en)")


def add_model_args(p: argparse.ArgumentParser, limits: bool = True) -> None:
    p.add_argument(
        "--model",
        default="iic/emotion2vec_plus_large",
        help="hub id (iic/emotion2vec_plus_large, large, base, seed), a local model dir, or 'demo' "
        f"(for trying the workflow offline; {t('random_note', 'en')})",
    )
    add_runtime_args(p)
    if not limits:
        return
    p.add_argument(
        "--max-duration",
        type=float,
        default=4 * 3600.0,
        metavar="SECONDS",
        help="refuse longer recordings, checked while decoding (default 14400 = 4 hours)",
    )


def add_scoring_args(p: argparse.ArgumentParser, granularity: str, embedding: str, enhance: str) -> None:
    """--granularity, --embedding, --enhance and --no-quality: what each input gets (the helps say it per command)."""
    p.add_argument("--granularity", choices=list(GRANULARITIES), default="utterance", help=granularity)
    p.add_argument("--embedding", action="store_true", help=embedding)
    p.add_argument("--enhance", action="store_true", help=enhance)
    p.add_argument("--no-quality", action="store_true", help="skip the audio quality report")


def add_channel_args(p: argparse.ArgumentParser, channels: str, roles: str | None = None) -> None:
    """--channels mix|separate, and --roles (the channels' names) where `roles` says what it does there."""
    p.add_argument("--channels", choices=list(CHANNEL_MODES), default="mix", help=channels)
    if roles is not None:
        p.add_argument("--roles", default=None, help=roles)


def add_speaker_args(p: argparse.ArgumentParser, model: bool = True) -> None:
    """--speakers auto|N (who spoke when; each turn of >= 1 s scored) and --speaker-model DIR."""
    p.add_argument(
        "--speakers",
        default=None,
        metavar="auto|N",
        help="find who spoke when (mono; within each channel with --channels separate) and score each speaker "
        "turn of at least 1 s: auto, or at most N speakers (needs the `speakers` extra)",
    )
    if model:
        p.add_argument(
            "--speaker-model",
            default=None,
            metavar="DIR",
            help="with --speakers: a folder with another speaker-embedding model",
        )


def add_adapter_arg(p: argparse.ArgumentParser) -> None:
    """`--adapter DIR`: read every result with an adapter trained by `emostudio adapt` (its own labels)."""
    p.add_argument(
        "--adapter",
        default=None,
        metavar="DIR",
        help="an adapter folder from `emostudio adapt`: every result also carries its reading over your labels "
        "(result.json `adapted`); refused when it was trained on other model weights",
    )


def read_adapter(args: argparse.Namespace):
    """The --adapter folder read (before the model loads): the Adapter, None without --adapter, or EXIT_USAGE
    after one line naming the file."""
    from emostudio.adapt import AdapterError, load_adapter

    if getattr(args, "adapter", None) is None:
        return None
    try:
        return load_adapter(args.adapter)
    except AdapterError as exc:
        fail(str(exc))
        return EXIT_USAGE


def check_adapter(rec, adapter) -> bool:
    """Whether `adapter` (or None) fits `rec`'s model; False after one line naming both weights hashes."""
    from emostudio.adapt import AdapterError

    if adapter is None:
        return True
    try:
        rec.check_adapter(adapter)
    except AdapterError as exc:
        fail(str(exc))
        return False
    return True


def say_model_error(exc: EmoStudioError) -> None:
    """Why no model could be loaded: where we looked and how to get weights, or what went wrong."""
    from emostudio.model.checkpoint import ModelNotFoundError

    if isinstance(exc, ModelNotFoundError):
        say("No model weights found.", "bold red", err=True)
        say(str(exc), err=True)
    else:
        say(f"Cannot load the model: {exc}", "bold red", err=True)


def load_recognizer(args: argparse.Namespace):
    """A Recognizer for the CLI's model options, or None after printing where we looked and how to get weights."""
    from emostudio.errors import ModelError
    from emostudio.recognize import Recognizer
    from emostudio.settings import Settings

    max_duration = getattr(args, "max_duration", None)
    if max_duration is not None and not max_duration > 0:
        fail(f"--max-duration must be positive, got {max_duration}")
        return None
    try:
        with err_console.status(Text(f"loading model {args.model} …")):
            rec = Recognizer(
                model=args.model,
                device=args.device,
                dtype=args.dtype,
                allow_download=not getattr(args, "offline", False),
                settings=Settings(max_duration_s=max_duration) if max_duration else None,
            )
    except ModelError as exc:
        say_model_error(exc)
        return None
    for warning in rec.model.warnings:
        say(f"⚠ {warning}", "yellow", err=True)
    if rec.model.is_random:
        say(f"⚠ {t('random_note', 'en')} (model {rec.model.model_id})", "yellow", err=True)
    return rec


def load_with_adapter(args: argparse.Namespace, model_args: argparse.Namespace | None = None):
    """(Recognizer, Adapter or None) for the model options (`model_args`, default `args`) and --adapter, or None
    after one line saying why. The adapter folder is read first: a damaged one fails before the model loads."""
    adapter = read_adapter(args)
    if isinstance(adapter, int):
        return None
    rec = load_recognizer(model_args or args)
    if rec is None or not check_adapter(rec, adapter):
        return None
    return rec, adapter


class NoAudioFilesError(AudioError):
    """A folder given on the command line holds no audio files."""

    code = "no_audio_files"


@dataclass
class Expanded:
    files: list[str]  # inputs to analyse, in a stable order, each once
    problems: list[AudioError]  # folders that gave nothing


def expand_inputs(patterns: list[str], extensions: frozenset[str]) -> Expanded:
    """Files from paths, folders (recursive, audio extensions only) and glob patterns, in a stable order.

    A path that matches nothing is kept as is, so that it is reported as missing instead of silently dropped;
    a folder without audio files is a problem of its own.
    """
    from emostudio.inputs import audio_files

    out: list[str] = []
    problems: list[AudioError] = []
    for pat in patterns:
        try:
            is_dir = os.path.isdir(pat)
        except (OSError, ValueError):
            is_dir = False
        if is_dir:
            found = [str(p) for p in audio_files(Path(pat))]
            if not found:
                problems.append(
                    NoAudioFilesError(
                        pat,
                        f"a folder with no audio files in it (looked for {', '.join(sorted(extensions)[:8])}, …)",
                    )
                )
            out += found
        elif any(ch in pat for ch in "*?[") and not os.path.lexists(pat):
            out += sorted(glob.glob(pat, recursive=True)) or [pat]
        else:
            out.append(pat)
    return Expanded(list(dict.fromkeys(out)), problems)  # each once, first place kept


def check_out_dir(path: str) -> bool:
    """True if run folders can be written under `path`; else prints why and returns False."""
    from emostudio.runs import check_output_root

    try:
        check_output_root(path)
    except EmoStudioError as exc:
        fail(str(exc))
        return False
    return True
