"""Recognizer: the front door — load a model by name, analyse one input or many, or a live stream.

    decode → VAD → quality → (enhance) → split long audio → batched model → assemble → Result → (run folder)

A Recognizer is an `Engine` (emostudio.engine: prepared inputs → Results) that also finds and loads its model
(hub id, alias, folder or `demo`; CPU fast paths) and runs whole analyses: `analyze` for one input,
`analyze_many` for many (handed over to emostudio.pipeline: read-ahead, grouping, the failure policy) and
`stream` for live audio (handed over to emostudio.live). Arguments are checked before any work; every error is a
typed `EmoStudioError` naming the input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

import torch

from emostudio.engine import Engine, check_settings
from emostudio.errors import EmoStudioError, OutputError, UsageError
from emostudio.live import LiveStream
from emostudio.model.accel import optimise_for_cpu
from emostudio.model.checkpoint import DEFAULT_MODEL, LoadedModel, load_model
from emostudio.options import AnalysisOptions, ResultAdapter
from emostudio.pipeline import InputProgress, Outcome, PipelineOptions, iter_results
from emostudio.records import Source, StageProgress, at_stage
from emostudio.results import Result
from emostudio.runs import check_output_root
from emostudio.settings import EnhanceSettings, Settings

__all__ = ["DEFAULT_MODEL", "Outcome", "Recognizer", "check_device", "precision_name"]
DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
DTYPES = (None, "fp32", "float32", "bf16", "bfloat16", "fp16", "float16", "half", "int8")


def precision_name(dtype: str | torch.dtype | None) -> str:
    """The canonical precision name recorded in results and job identities: float32, bfloat16, float16, int8."""
    text = str(dtype).replace("torch.", "").lower() if dtype is not None else "float32"
    return {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}.get(text, text)


def check_device(device: object, dtype: object) -> None:
    """UsageError unless `device` is auto / cpu / cuda[:N] and `dtype` a known precision."""
    if not isinstance(device, str) or not DEVICE_RE.match(device):
        raise UsageError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', not {device!r}")
    if dtype is not None and not isinstance(dtype, str | torch.dtype):
        raise UsageError(f"dtype must be one of fp32, bf16, fp16, int8, not {dtype!r}")
    if isinstance(dtype, str) and dtype.lower() not in DTYPES:
        raise UsageError(f"dtype must be one of fp32, bf16, fp16, int8, not {dtype!r}")


def _load(model: str | os.PathLike, device: str, dtype: str | None, allow_download: bool) -> LoadedModel:
    loaded = load_model(model, device, None if dtype == "int8" else dtype, allow_download)
    if dtype == "int8" or (loaded.device.type == "cpu" and loaded.dtype == torch.float32):
        # CPU: fp32 gets the cache-sized chunked front-end (same numbers to ~1e-7, 15-25 % faster);
        # int8 also quantises the matmuls (about 2x faster; probabilities move ~1e-3). GPU: refused.
        loaded = optimise_for_cpu(loaded, dtype or "fp32", threads=torch.get_num_threads())
    return loaded


class Recognizer(Engine):
    """Speech emotion recognition with an emotion2vec+ model.

    >>> rec = Recognizer(model="large", device="auto")
    >>> result = rec.analyze("speech.wav", granularity="frame", output_dir="outputs")
    >>> print(result.summary())   # 😊 快乐 (Happy) 置信度: 63.7%
    """

    def __init__(
        self,
        model: str | os.PathLike | LoadedModel = DEFAULT_MODEL,
        device: str = "auto",
        dtype: str | None = None,
        settings: Settings | None = None,
        allow_download: bool = True,
    ):
        check_device(device, dtype)
        check_settings(settings)  # both before a model is loaded
        # a LoadedModel is used as given (see emostudio.model.accel for the CPU fast paths)
        loaded = model if isinstance(model, LoadedModel) else _load(model, device, dtype, allow_download)
        super().__init__(loaded, settings)

    # ---- one call per file or many --------------------------------------------------------------------------
    def analyze(
        self,
        source: Source,
        *,
        granularity: str = "utterance",
        embedding: bool = False,
        enhance: bool | EnhanceSettings = False,
        quality: bool = True,
        output_dir: str | os.PathLike | None = None,
        name: str | None = None,
        sample_rate: int | None = None,
        channels: str = "mix",
        roles: str | Sequence[str] | None = None,
        options: AnalysisOptions | None = None,
        adapter: ResultAdapter | None = None,
        speakers: int | str | None = None,
        progress: StageProgress | None = None,
    ) -> Result:
        """Analyse one input (path, bytes, numpy array with `sample_rate`, or decoded Audio).

        `channels="separate"` scores each channel as its own speaker (`result.channels`, one entry per channel
        with its role, whether it is a speaker, silent or a copy, and its own Result); `roles` names them
        ("agent,customer"). The top-level result is the mixed recording either way. `adapter` (a loaded one:
        `emostudio.adapt.load_adapter(folder)`) adds its reading over the user's labels (`result.adapted`, and
        per segment and channel); AdapterMismatchError when it was trained on other weights. `speakers`
        ("auto" or at most N; the `speakers` extra) finds who spoke when and scores each turn of ≥ 1 s as an
        utterance (`result.speaker_turns`; result.json's `diarization`, `turns`, `speakers`). `options` (an
        AnalysisOptions) replaces the keyword options when given. `progress(stage, fraction)` is told how far
        the work is (stages "progress_decoding", "progress_diarize", "progress_model": catalogue keys).
        With `output_dir`, also writes a fresh run folder `output_dir/outputs_YYYYMMDD_HHMMSS[_N]/` (checked for
        writability before any work). Raises an AudioError subclass naming the file for bad input, UsageError
        for bad arguments, OutputError when the run folder cannot be written.
        """
        opts = options or AnalysisOptions(
            granularity, embedding, enhance, quality, channels, roles, adapter=adapter, speakers=speakers
        )
        opts.check()
        reader = self.adapter_for(opts)
        if output_dir is not None:
            check_output_root(output_dir)
        item = self.prepare(source, opts, name=name, sample_rate=sample_rate, progress=progress)
        scoring = at_stage(progress, "progress_model")
        result = self.results([item], opts.granularity, opts.embedding, reader, scoring)[0]
        if isinstance(result, EmoStudioError):
            raise result
        if output_dir is not None:
            self.save(result, item, output_dir)
        return result

    def analyze_many(
        self,
        sources: object,
        *,
        granularity: str = "utterance",
        embedding: bool = False,
        enhance: bool | EnhanceSettings = False,
        quality: bool = True,
        output_dir: str | os.PathLike | None = None,
        workers: int = 2,
        executor: str = "thread",
        group_seconds: float | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        channels: str = "mix",
        roles: str | Sequence[str] | None = None,
        options: AnalysisOptions | None = None,
        adapter: ResultAdapter | None = None,
        speakers: int | str | None = None,
        on_progress: InputProgress | None = None,
    ) -> list[Outcome]:
        """Analyse many inputs, batched; a bad input never stops the rest or costs another input its result.

        `sources`: a list of paths, bytes, `(array, sample_rate)` pairs or Audio (a single path counts as one).
        Returns one Outcome per input, in input order (`result`, or `error` with a typed EmoStudioError);
        `on_outcome` is called as each one is done. See `emostudio.pipeline` for grouping and memory bounds;
        `workers` are the threads (or, with executor="process", processes) that decode and prepare inputs.
        `channels="separate"` scores each channel of every input as its own speaker (see `analyze`); an
        `InputItem` with `roles` or `channels` of its own decides for itself. `adapter`, `speakers`: as in
        `analyze`.
        `options` (an AnalysisOptions) replaces the keyword analysis options when given.
        `on_progress(index, stage, fraction)`: how far input `index` is (stages as in `analyze`; not told by
        worker processes).
        """
        analysis = options or AnalysisOptions(
            granularity, embedding, enhance, quality, channels, roles, adapter=adapter, speakers=speakers
        )
        pipe = PipelineOptions(analysis, workers, executor, group_seconds=group_seconds).check()
        if output_dir is not None:
            check_output_root(output_dir)
        outcomes: list[Outcome] = []
        for outcome in iter_results(self, sources, pipe, on_progress):
            if outcome.result is not None and output_dir is not None:
                try:
                    self.save(outcome.result, outcome.scored_audio(), output_dir)
                except OutputError as e:
                    outcome.error = e
            outcome.prepared = None  # the audio is not kept for the whole list
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
        return outcomes

    # ---- live ------------------------------------------------------------------------------------------------------
    def stream(self, sample_rate: int = 16000, **options) -> LiveStream:
        """A live stream: push PCM chunks as they arrive, get an update every hop, `close()` for the Result.

        >>> with rec.stream(48000, channels="separate", roles="agent,customer") as live:
        ...     for chunk in chunks:                  # (samples,) or (samples, channels), int16 or float
        ...         for update in live.feed(chunk):   # the last window's scores, label, band, segments
        ...             print(update.summary())
        ...     live.flush()                          # the last hop's update
        ...     result = live.close(output_dir="outputs")  # the whole stream, as analyze(file, granularity="frame")

        `options` are those of `emostudio.live.LiveStream` (hop_s, window_s, channels, roles, format, ...).
        """
        return LiveStream(self, sample_rate, **options)
