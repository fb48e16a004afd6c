"""Engine: a loaded model with its settings — prepared inputs in, Results out, with the one failure policy.

    prepare (emostudio.prepare) → score_inputs (emostudio.scoring) → assemble (emostudio.assemble) → Result

`Recognizer` (emostudio.recognize) is an Engine that also finds and loads models by name and analyses inputs
end to end. The many-input loop (emostudio.pipeline), live streams (emostudio.live) and the server's model worker
take an Engine, so they sit below the Recognizer that hands its `analyze_many` and `stream` over to them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emostudio import runs
from emostudio.assemble import assemble
from emostudio.errors import EmoStudioError, ModelError, OutputError, UsageError, printable
from emostudio.model.checkpoint import LoadedModel
from emostudio.model.lanes import Lanes
from emostudio.options import AnalysisOptions, ResultAdapter, check_granularity
from emostudio.prepare import prepare
from emostudio.records import Fraction, Prepared, Source, StageProgress
from emostudio.results import ModelRef, Result, run_content
from emostudio.scoring import InputScores, SpanScores, each_or_alone, score_inputs, score_waveforms
from emostudio.settings import Settings

CPU_BATCH_SECONDS = 30.0
GPU_BATCH_SECONDS = 120.0


def check_settings(settings: object) -> None:
    """UsageError unless `settings` is None or a Settings."""
    if settings is not None and not isinstance(settings, Settings):
        raise UsageError(f"settings must be an emostudio.settings.Settings, got {type(settings).__name__}")


class Engine:
    """An emotion2vec+ model (with its classification head) and the settings it analyses with."""

    def __init__(self, model: LoadedModel, settings: Settings | None = None):
        check_settings(settings)
        if model.encoder.head is None:
            raise ModelError(
                f"{printable(model.source)}: this model has no emotion classification head (its folder "
                "has no tokens.txt), so it cannot recognise emotions; use an emotion2vec+ model "
                "(seed, base or large)"
            )
        self.model = model
        self.settings = settings or Settings()
        self._lanes: Lanes | None = None
        self.adapter: ResultAdapter | None = None  # read from every Result unless a call names its own

    def use_adapter(self, adapter: ResultAdapter | None) -> None:
        """Read `adapter` (a loaded one, or None for none) from every Result from now on (the server's active
        adapter). Raises AdapterMismatchError naming both hashes when it was trained on other weights."""
        if adapter is not None:
            self.check_adapter(adapter)
        self.adapter = adapter

    def check_adapter(self, adapter: ResultAdapter) -> None:
        """AdapterMismatchError unless `adapter` was trained on this engine's model weights."""
        adapter.check_model(self.model.fingerprint(), self.model.model_id)

    def adapter_for(self, options: AnalysisOptions) -> ResultAdapter | None:
        """The adapter a call with `options` reads (its own, checked against the model, else the engine's);
        UsageError when `options.adapter` is a folder not yet loaded."""
        own = options.loaded_adapter
        if own is None:
            return self.adapter
        if own is not self.adapter:
            self.check_adapter(own)
        return own

    @property
    def model_ref(self) -> ModelRef:
        """Which model produces this engine's results (recorded in every result.json)."""
        m = self.model
        dtype = str(m.dtype).replace("torch.", "")
        if m.arch.get("cpu_precision") not in (None, "fp32"):
            dtype = m.arch["cpu_precision"]
        return ModelRef(m.model_id, m.source, m.is_random, str(m.device), dtype)

    @property
    def batch_seconds(self) -> float:
        """Padded audio seconds per model batch: `settings.batch_seconds`, or when that is None, 30 s on CPU (a
        batch's activations then stay near the CPU cache; 120 s batches of plus_large ran at about half the
        speed) and 120 s on a GPU."""
        if self.settings.batch_seconds is not None:
            return float(self.settings.batch_seconds)
        return CPU_BATCH_SECONDS if self.model.device.type == "cpu" else GPU_BATCH_SECONDS

    @property
    def lanes(self) -> Lanes | None:
        """The CPU model's lanes: batches run side by side (see `emostudio.model.lanes`); None on a GPU."""
        if self.model.device.type != "cpu":
            return None
        if self._lanes is None:
            threads = int(self.model.arch.get("cpu_threads") or torch.get_num_threads())
            count = int(self.model.arch.get("cpu_lanes") or 1)
            self._lanes = Lanes(count, max(1, threads // count), threads)
        return self._lanes

    # ---- per-input CPU work ------------------------------------------------------------------------------------
    def prepare(
        self,
        source: Source,
        options: AnalysisOptions | None = None,
        *,
        name: str | None = None,
        sample_rate: int | None = None,
        progress: StageProgress | None = None,
        **fields: Any,
    ) -> Prepared:
        """Decode and check one input, measure its quality, optionally enhance it, and plan its segments.

        `options` decide enhancement, quality and channels; keywords (`enhance=True`, `quality=False`,
        `channels="separate"`, `roles="agent,customer"`) change single fields of them. channels="separate"
        also prepares each channel as its own speaker (see emostudio.prepare). `progress(stage, fraction)`:
        as in emostudio.prepare.
        """
        opts = options or AnalysisOptions()
        if fields:
            opts = opts.replace(**fields)
        return prepare(source, self.settings, opts, name=name, sample_rate=sample_rate, progress=progress)

    # ---- model ---------------------------------------------------------------------------------------------------
    def score_waveforms(
        self, waveforms: Sequence[np.ndarray], keep_features: bool = False, progress: Fraction | None = None
    ) -> list[SpanScores]:
        """The encoder's scores for each waveform ((samples,) float32 at 16 kHz), batched (emostudio.scoring);
        `progress` is told the share scored after each batch."""
        return score_waveforms(
            self.model,
            waveforms,
            batch_seconds=self.batch_seconds,
            lanes=self.lanes,
            keep_features=keep_features,
            progress=progress,
        )

    def score_segments(
        self,
        items: Sequence[Prepared],
        granularity: str = "utterance",
        embedding: bool = False,
        progress: Fraction | None = None,
    ) -> list[InputScores]:
        """Every segment of prepared inputs scored in one batched pass (raises on the first failure);
        `progress`: the share of that pass done."""
        check_granularity(granularity)

        def score(waveforms: list[np.ndarray], keep_features: bool) -> list[SpanScores]:
            return self.score_waveforms(waveforms, keep_features, progress)

        return score_inputs(score, self.model, items, granularity, embedding)

    def infer(
        self,
        items: Sequence[Prepared],
        granularity: str = "utterance",
        embedding: bool = False,
        adapter: ResultAdapter | None = None,
        progress: Fraction | None = None,
    ) -> list[Result]:
        """Score prepared inputs together (one batched pass) and build their Results (read by `adapter`, a
        checked one, else by the engine's own adapter when it has one); `progress`: the pass's share done.

        Raises TooShortError for an input (or segment) shorter than the model's receptive field and
        InferenceError when the model's scores are not finite; `results` isolates the culprit instead.
        """
        scores = self.score_segments(items, granularity, embedding, progress)
        ref = self.model_ref
        reader = adapter or self.adapter
        return [
            assemble(item, sc, granularity, embedding, model=ref, settings=self.settings, adapter=reader)
            for item, sc in zip(items, scores, strict=True)
        ]

    def results(
        self,
        items: Sequence[Prepared],
        granularity: str = "utterance",
        embedding: bool = False,
        adapter: ResultAdapter | None = None,
        progress: Fraction | None = None,
    ) -> list[Result | EmoStudioError]:
        """`infer` with the failure policy: a Result per input, or that input's typed error alone. `progress`:
        the share scored (starting again when a failed group is scored input by input)."""
        return each_or_alone(
            items, lambda group: self.infer(group, granularity, embedding, adapter, progress)
        )

    def segment_scores(
        self, items: Sequence[Prepared], granularity: str = "utterance", embedding: bool = False
    ) -> list[InputScores | EmoStudioError]:
        """`score_segments` with the failure policy: each input's segment scores, or its typed error alone."""
        return each_or_alone(items, lambda group: self.score_segments(group, granularity, embedding))

    def assemble(
        self,
        item: Prepared,
        scores: InputScores,
        granularity: str,
        embedding: bool,
        adapter: ResultAdapter | None = None,
    ) -> Result:
        """The Result of `item` from its (possibly joined) segment scores (emostudio.assemble), read by
        `adapter` (a checked one) or the engine's own."""
        return assemble(
            item,
            scores,
            granularity,
            embedding,
            model=self.model_ref,
            settings=self.settings,
            adapter=adapter or self.adapter,
        )

    # ---- run folders ---------------------------------------------------------------------------------------------
    def save(self, result: Result, item: Prepared, output_dir: str | os.PathLike) -> Path:
        """Write the run folder for `result` (all files, or none: see emostudio.runs); returns the folder.

        Raises OutputError naming the input when it cannot be written (read-only, disk full, ...).
        """
        try:
            run_dir = runs.save_run(output_dir, run_content(result, item.waveform))
        except OSError as e:
            result.output_dir = None
            raise OutputError(
                f"{printable(item.name)}: the results could not be written to {printable(output_dir)} "
                f"({e.strerror or e})"
            ) from e
        result.output_dir = run_dir
        return run_dir
