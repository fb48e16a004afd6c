"""The adapter folder: a trained head and a temperature for one base model, and applying them to a Result.

    ADAPTER/
        adapter.safetensors   weights (k, dim), bias (k,), scaler_mean (dim,), scaler_scale (dim,), temperature (1,)
                              float64; header metadata `emostudio`: JSON {format, labels}
        adapter.json          format, id, labels, the base model (id, weights sha256, precision), the training set
                              (source, fingerprint, counts), folds, calibration, the head's C, the CV metrics,
                              created; written last: it marks a complete adapter
        report/               the cross-validated report (metrics.json, report.html, charts, predictions.csv)

No pickle anywhere: safetensors and JSON only. The adapter's id is the first 16 hex digits of the sha256 of
adapter.safetensors (which holds everything that changes its output, labels included). Loading checks the
format, the file's sha256 against adapter.json, every shape, and (given the model's weights sha256) that the
adapter was trained on those weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emostudio import atomic
from emostudio.adapt.calibration import logits, scale
from emostudio.adapt.errors import AdapterError, AdapterMismatchError
from emostudio.adapt.head import Head
from emostudio.errors import printable
from emostudio.interpret import Band, band_for
from emostudio.model.labels import KEYS
from emostudio.options import AnalysisOptions
from emostudio.settings import BandThresholds

if TYPE_CHECKING:
    from emostudio.engine import Engine

ADAPTER_FORMAT = "emostudio.adapter/1"
WEIGHTS_FILE = "adapter.safetensors"
INFO_FILE = "adapter.json"
REPORT_DIR = "report"
MAX_FILE_BYTES = 64 << 20  # an adapter of 1,000 classes on 1,024-dim embeddings is 8 MB
TENSORS = ("weights", "bias", "scaler_mean", "scaler_scale", "temperature")
META_KEY = "emostudio"  # the safetensors header's only metadata entry: JSON {format, labels}


@dataclass(frozen=True)
class Adapted:
    """The adapted reading of one utterance (or segment): the head's scores over the adapter's labels.

    scores: (k,) over `labels`, summing to 1; calibrated: (9,) the base scores after temperature scaling (KEYS
    order; equal to the base scores when the adapter has no calibration).
    """

    labels: tuple[str, ...]
    scores: np.ndarray
    label: str
    confidence: float
    band: Band
    adapter: str  # the adapter's id
    calibrated: np.ndarray

    def to_dict(self) -> dict:
        """The `adapted` block of result.json: labels, scores, label, confidence, band, adapter, calibrated_scores."""
        return {
            "labels": list(self.labels),
            "scores": {k: float(v) for k, v in zip(self.labels, self.scores, strict=True)},
            "label": self.label,
            "confidence": float(self.confidence),
            "band": self.band.key,
            "adapter": self.adapter,
            "calibrated_scores": {k: float(v) for k, v in zip(KEYS, self.calibrated, strict=True)},
        }


@dataclass
class Adapter:
    """A head over `labels` and a temperature for the base model's 9 scores, trained for one set of weights."""

    labels: tuple[str, ...]
    head: Head
    temperature: float  # 1.0 when no calibration was fitted (a custom label set)
    info: dict = field(default_factory=dict)  # adapter.json
    sha256: str = ""  # of adapter.safetensors
    folder: Path | None = None

    @property
    def id(self) -> str:
        return self.sha256[:16]

    @property
    def weights_sha256(self) -> str:
        """sha256 of the base model weights the adapter was trained on."""
        return str(self.info.get("model", {}).get("weights_sha256", ""))

    @property
    def embedding_dim(self) -> int:
        return int(self.head.weights.shape[1])

    def check_model(self, weights_sha256: str, model_id: str | None = None) -> None:
        """AdapterMismatchError unless the adapter was trained on the model whose weights hash is given."""
        if weights_sha256 != self.weights_sha256:
            where = printable(self.folder) if self.folder else "this adapter"
            trained = self.info.get("model", {}).get("id", "?")
            raise AdapterMismatchError(
                f"{where}: trained on model weights sha256 {self.weights_sha256} ({printable(trained)}), but the "
                f"loaded model's weights are sha256 {weights_sha256}"
                + (f" ({printable(model_id)})" if model_id else "")
                + "; an adapter reads only the embeddings of the weights it was trained on. Load that model, or "
                "train an adapter for this one with `emostudio adapt`"
            )

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """(…, 9) base probabilities → (…, 9) after temperature scaling."""
        return scale(logits(probs), self.temperature)

    def apply_many(self, probs: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated (n, 9), head scores (n, k)) for base probabilities (n, 9) and embeddings (n, dim)."""
        embeddings = np.asarray(embeddings, dtype=np.float64).reshape(len(probs), -1)
        if embeddings.shape[1] != self.embedding_dim:
            raise AdapterError(
                f"{printable(self.folder or 'adapter')}: embeddings of {embeddings.shape[1]} dimensions, but the "
                f"adapter reads {self.embedding_dim}"
            )
        return self.calibrate(np.asarray(probs, dtype=np.float64)), self.head.proba(embeddings)

    def apply(self, probs: np.ndarray, embedding: np.ndarray, bands: BandThresholds | None = None) -> Adapted:
        """The adapted reading of one utterance: probs (9,) KEYS order, embedding (dim,)."""
        cal, scores = self.apply_many(np.asarray(probs).reshape(1, 9), np.asarray(embedding).reshape(1, -1))
        k = int(np.argmax(scores[0]))
        conf = float(scores[0, k])
        return Adapted(
            self.labels,
            scores[0],
            self.labels[k],
            conf,
            band_for(conf, bands or BandThresholds()),
            self.id,
            cal[0],
        )


def _tensors(adapter: Adapter) -> dict[str, np.ndarray]:
    h = adapter.head
    return {
        "weights": np.ascontiguousarray(h.weights, dtype=np.float64),
        "bias": np.ascontiguousarray(h.bias, dtype=np.float64),
        "scaler_mean": np.ascontiguousarray(h.mean, dtype=np.float64),
        "scaler_scale": np.ascontiguousarray(h.scale, dtype=np.float64),
        "temperature": np.array([adapter.temperature], dtype=np.float64),
    }


def save_adapter(adapter: Adapter, folder: str | os.PathLike) -> Path:
    """Write adapter.safetensors then adapter.json (atomically, json last); sets `sha256`, `folder`, info ids."""
    import safetensors.numpy

    folder = Path(folder)
    # one metadata key: safetensors writes several in no fixed order, and the id is the hash of these bytes
    meta = json.dumps({"format": ADAPTER_FORMAT, "labels": list(adapter.labels)}, ensure_ascii=False)
    data = safetensors.numpy.save(_tensors(adapter), metadata={META_KEY: meta})
    adapter.sha256 = hashlib.sha256(data).hexdigest()
    adapter.folder = folder
    adapter.info.update(format=ADAPTER_FORMAT, id=adapter.id, weights_file_sha256=adapter.sha256)
    adapter.info["labels"] = list(adapter.labels)
    atomic.write_bytes(folder / WEIGHTS_FILE, data)
    atomic.write_json(folder / INFO_FILE, adapter.info)
    return folder


def _read(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    if not path.is_file():
        raise AdapterError(
            f"{printable(path)}: missing; an adapter folder holds {WEIGHTS_FILE} and {INFO_FILE}"
        )
    size = path.stat().st_size
    if size > limit:
        raise AdapterError(f"{printable(path)}: {size} bytes, more than an adapter file may be ({limit})")
    try:
        return path.read_bytes()
    except OSError as e:
        raise AdapterError(f"{printable(path)}: unreadable ({e.strerror or e})") from e


def _header(data: bytes, path: Path) -> dict:
    """The JSON header of a safetensors file (8-byte little-endian length, then JSON)."""
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if n <= 0 or 8 + n > len(data):
        raise AdapterError(f"{printable(path)}: not a safetensors file (damaged or truncated)")
    try:
        header = json.loads(data[8 : 8 + n])
    except ValueError as e:
        raise AdapterError(f"{printable(path)}: not a safetensors file (header: {e})") from e
    if not isinstance(header, dict):
        raise AdapterError(f"{printable(path)}: not a safetensors file (header is not an object)")
    return header


def load_adapter(
    folder: str | os.PathLike, weights_sha256: str | None = None, model_id: str | None = None
) -> Adapter:
    """Read an adapter folder. Raises AdapterError naming the file for a missing, damaged or foreign folder, and
    AdapterMismatchError when `weights_sha256` (the loaded model's) is not the one it was trained on."""
    import safetensors
    import safetensors.numpy

    folder = Path(folder)
    if not folder.is_dir():
        raise AdapterError(f"{printable(folder)}: no such adapter folder")
    info_path, weights_path = folder / INFO_FILE, folder / WEIGHTS_FILE
    raw = _read(info_path)
    try:
        info = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise AdapterError(f"{printable(info_path)}: not valid JSON ({e})") from e
    if not isinstance(info, dict) or info.get("format") != ADAPTER_FORMAT:
        found = info.get("format") if isinstance(info, dict) else type(info).__name__
        raise AdapterError(
            f"{printable(info_path)}: not an emostudio adapter (format {found!r}, expected {ADAPTER_FORMAT!r})"
        )
    data = _read(weights_path)
    sha = hashlib.sha256(data).hexdigest()
    if sha != info.get("weights_file_sha256"):
        raise AdapterError(
            f"{printable(weights_path)}: its sha256 {sha} is not the {info.get('weights_file_sha256')!r} that "
            f"{INFO_FILE} records (damaged, or replaced by another adapter's file)"
        )
    header_meta = _header(data, weights_path).get("__metadata__") or {}
    try:
        tensors = safetensors.numpy.load(data)
        meta = json.loads(header_meta.get(META_KEY, "{}"))
        labels = tuple(meta.get("labels") or ())
    except (safetensors.SafetensorError, ValueError, TypeError, AttributeError) as e:
        raise AdapterError(f"{printable(weights_path)}: unreadable ({e})") from e
    if meta.get("format") != ADAPTER_FORMAT or list(labels) != info.get("labels"):
        raise AdapterError(f"{printable(weights_path)}: its labels or format differ from {INFO_FILE}")
    missing = [t for t in TENSORS if t not in tensors]
    if missing:
        raise AdapterError(f"{printable(weights_path)}: missing tensors {missing}")
    w, b, mean, sd, t = (np.asarray(tensors[k], dtype=np.float64) for k in TENSORS)
    k = len(labels)
    if (
        k < 2
        or w.ndim != 2
        or w.shape[0] != k
        or b.shape != (k,)
        or mean.shape != (w.shape[1],)
        or sd.shape != (w.shape[1],)
        or t.shape != (1,)
    ):
        raise AdapterError(
            f"{printable(weights_path)}: tensor shapes do not fit {k} labels (weights {w.shape}, bias {b.shape}, "
            f"mean {mean.shape}, scale {sd.shape}, temperature {t.shape})"
        )
    finite = (
        np.all(np.isfinite(w))
        and np.all(np.isfinite(mean))
        and np.all(np.isfinite(sd))
        and not np.any(np.isnan(b))
    )
    if not (finite and np.all(sd > 0) and 0 < t[0] < np.inf):
        raise AdapterError(f"{printable(weights_path)}: non-finite weights, a scale ≤ 0 or a bad temperature")
    head = Head(
        w,
        b,
        mean,
        sd,
        float(info.get("head", {}).get("C", 0.0)),
        bool(info.get("head", {}).get("converged", True)),
    )
    adapter = Adapter(labels, head, float(t[0]), info, sha, folder)
    if weights_sha256 is not None:
        adapter.check_model(weights_sha256, model_id)
    return adapter


def adapter_for(adapter: Adapter | str | os.PathLike, engine: Engine) -> Adapter:
    """`adapter` (loaded, or its folder) checked against `engine`'s model weights: AdapterError for a damaged
    folder, AdapterMismatchError naming both hashes for an adapter of other weights."""
    if isinstance(adapter, Adapter):
        engine.check_adapter(adapter)
        return adapter
    return load_adapter(adapter, engine.model.fingerprint(), engine.model.model_id)


def resolve_adapter(options: AnalysisOptions, engine: Engine) -> AnalysisOptions:
    """`options` with its adapter folder loaded and checked against `engine`'s model (the surfaces call this
    once, before any work); unchanged when it has no adapter."""
    if options.adapter is None:
        return options
    if isinstance(options.adapter, str | os.PathLike):
        return options.replace(adapter=adapter_for(options.adapter, engine))
    engine.adapter_for(options)
    return options
