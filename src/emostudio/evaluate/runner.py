"""Score a labelled set with one or more models: each file is decoded and checked once, every model scores it.

Files are prepared (decode, VAD, quality) in a small thread pool with bounded read-ahead and gathered into
groups of about `chunk_seconds` of audio; each group is scored by every model in turn and then dropped, so
memory holds one group of decoded audio whatever the size of the set. A file that fails to decode (or that
one model fails on) becomes a BadRow naming its manifest line; the rest carries on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from emostudio.errors import EmoStudioError
from emostudio.evaluate.cuts import CutSource
from emostudio.evaluate.manifest import BadRow, EvaluationError, LabelledItem
from emostudio.records import Prepared

if TYPE_CHECKING:  # not at run time: `emostudio --help` imports this package and must not import torch
    from emostudio.recognize import Recognizer


class EvaluationAborted(EvaluationError):
    """Raised by a model's `infer` (or `prepare`) to stop the whole run, e.g. when the server shuts down."""

    code = "evaluation_aborted"


DTYPES = ("fp32", "bf16", "fp16", "int8")
DEFAULT_CHUNK_SECONDS = 300.0


@dataclass
class ModelUnderTest:
    """One model of an evaluation: a name for the report and a function scoring prepared files.

    `infer(prepared_list) -> [Result]` (utterance granularity); `info` is the model's ModelRef as a dict.
    """

    name: str
    infer: Callable[[list], list]
    info: dict
    recognizer: Recognizer | None = None  # the Recognizer behind `infer`, when there is one


def model_from_recognizer(name: str, recognizer) -> ModelUnderTest:
    """Wrap an `emostudio.Recognizer` for evaluation under `name`."""
    return ModelUnderTest(
        name, lambda items: recognizer.infer(items, "utterance"), recognizer.model_ref.to_dict(), recognizer
    )


def parse_model_spec(spec: str, default_dtype: str | None = None) -> tuple[str, str | None]:
    """`large` → ("large", default), `large@int8` → ("large", "int8"): a per-model precision after `@`."""
    model, at, dtype = spec.rpartition("@")
    if at and dtype in DTYPES and model:
        return model, dtype
    return spec, default_dtype


def load_models(
    specs: Sequence[str],
    *,
    device: str = "auto",
    dtype: str | None = None,
    allow_download: bool = True,
    settings=None,
) -> list[ModelUnderTest]:
    """Load every model named in `specs` (hub id, alias, folder or `demo`, each optionally `@dtype`)."""
    from emostudio.recognize import Recognizer  # torch: only when models are loaded (see the imports above)

    if len(set(specs)) != len(specs):
        raise EvaluationError(f"a model is named twice in {list(specs)}; name each one once")
    out = []
    for spec in specs:
        model, dt = parse_model_spec(spec, dtype)
        rec = Recognizer(
            model=model, device=device, dtype=dt, allow_download=allow_download, settings=settings
        )
        out.append(model_from_recognizer(spec, rec))
    return out


@dataclass
class Scored:
    """One labelled file after scoring: the probabilities of each model that scored it, or why not."""

    item: LabelledItem
    duration_s: float | None = None
    quality: dict | None = None  # the file's quality report (QualityReport.to_dict()), when measured
    probs: dict[str, np.ndarray] = field(default_factory=dict)  # model name → (9,) in KEYS order
    errors: dict[str, BadRow] = field(default_factory=dict)  # model name → the failure


@dataclass
class Progress:
    """Where a run stands: files finished (scored or failed) of `total`, seconds of audio scored."""

    done: int
    total: int
    failed: int
    audio_s: float
    elapsed_s: float


def _bad_row(item: LabelledItem, exc: BaseException, model: str | None = None) -> BadRow:
    code = exc.code if isinstance(exc, EmoStudioError) else "internal"
    text = str(exc) if isinstance(exc, EmoStudioError) else f"{type(exc).__name__}: {exc}"
    text = text.replace(
        item.path, item.display
    )  # the file as the manifest names it, never a server-side path
    who = f" (model {model})" if model else ""
    named = "" if item.display in text else f"{item.display}: "  # audio errors name the file
    return BadRow(item.where, code, f"{item.ref}{who}: {named}{text}", item.id, item.display, model)


def score_items(
    items: Sequence[LabelledItem],
    models: Sequence[ModelUnderTest],
    prepare: Callable[[str], Prepared],
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    workers: int = 2,
    progress: Callable[[Progress], None] | None = None,
) -> list[Scored]:
    """Prepare each item once (`prepare(path) -> Prepared`) and score it with every model; input order kept.

    An item cut out of a longer file (start_s/end_s) is prepared from the Audio of its stretch instead of a
    path (`prepare(audio)`; `Recognizer.prepare` takes both): each such file is decoded once (evaluate.cuts).
    """
    if not models:
        raise EvaluationError("no model to evaluate")
    started = time.monotonic()
    out = [Scored(it) for it in items]
    state = Progress(0, len(items), 0, 0.0, 0.0)

    def report() -> None:
        if progress:
            progress(replace(state, elapsed_s=time.monotonic() - started))

    def finish(group: list[tuple[int, Prepared]]) -> None:
        _score_group(group, models, items, out)
        for i, p in group:
            state.done += 1
            state.audio_s += float(p.duration_s)
            state.failed += len(out[i].errors) == len(models)
        group.clear()
        report()

    group: list[tuple[int, Prepared]] = []
    seconds = 0.0
    report()
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="emostudio-eval") as pool:
        for i, prepared in _prepared_in_order(pool, items, prepare, workers):
            if isinstance(prepared, BaseException):
                err = _bad_row(items[i], prepared)
                out[i].errors = {m.name: err for m in models}
                state.done += 1
                state.failed += 1
                report()
                continue
            out[i].duration_s = float(prepared.duration_s)
            group.append((i, prepared))
            seconds += float(prepared.duration_s)
            if seconds >= chunk_seconds:
                finish(group)
                seconds = 0.0
        finish(group)
    return out


def _prepared_in_order(
    pool: ThreadPoolExecutor, items: Sequence[LabelledItem], prepare: Callable[[str], Prepared], workers: int
) -> Iterator[tuple[int, Prepared | Exception]]:
    """Each item prepared (or the exception that stopped it) with bounded read-ahead, file by file: the cuts
    of one long file follow each other, so they share one decode (evaluate.cuts)."""
    cuts = CutSource(items)

    def prep(i: int) -> Prepared | Exception:
        try:
            return prepare(cuts.source(items[i]))  # type: ignore[arg-type]
        except EvaluationAborted:
            raise
        except Exception as exc:  # a bad file is a bad row, never the end of the run
            return exc

    ahead = 2 * max(1, workers)
    pending: deque[tuple[int, Future]] = deque()
    nxt = 0
    while nxt < len(items) or pending:
        while nxt < len(items) and len(pending) < ahead:
            i = cuts.order[nxt]  # file by file, so a long file's cuts share one decode
            pending.append((i, pool.submit(prep, i)))
            nxt += 1
        i, fut = pending.popleft()
        yield i, fut.result()


def _score_group(
    group: list[tuple[int, Prepared]],
    models: Sequence[ModelUnderTest],
    items: Sequence[LabelledItem],
    out: list[Scored],
) -> None:
    """Score a group with every model; when a model fails on the group, its files are scored one by one."""
    for m in models:
        try:
            results = m.infer([p for _, p in group])
        except EvaluationAborted:
            raise
        except Exception:  # find the file(s) at fault: score them one by one
            results = []
            for _, p in group:
                try:
                    results.append(m.infer([p])[0])
                except EvaluationAborted:
                    raise
                except Exception as exc:
                    results.append(exc)
        for (i, _), res in zip(group, results, strict=True):
            if isinstance(res, BaseException):
                out[i].errors[m.name] = _bad_row(items[i], res, m.name)
            else:
                out[i].probs[m.name] = np.asarray(res.probs, dtype=np.float64)
                if out[i].quality is None and res.quality:
                    out[i].quality = res.quality
