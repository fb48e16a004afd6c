"""Adapting to a user's own labels: calibrated confidence and a trained head, with an honest before/after.

>>> from emostudio.adapt import adapt, evaluate_adapter, load_adapter
>>> run = adapt("train.csv", Recognizer(model="large"), "adapters/calls")      # CV report in adapters/calls/report
>>> run.doc["models"]["adapted"]["ua"], run.adapter.id
>>> ev = evaluate_adapter("test.csv", rec, "adapters/calls")                   # held-out: the same report
>>> load_adapter("adapters/calls", rec.model.fingerprint()).apply(result.probs, result.embedding)
>>> rec.analyze("call.wav", adapter=adapter_for("adapters/calls", rec)).adapted.label  # result.json `adapted`

Modules: `labelset` (which classes, custom or the model's, enough examples?), `folds` (grouped, never leaking),
`calibration` (temperature scaling), `head` (standardised embeddings → logistic regression, C by nested CV),
`cache` (scores + embeddings per audio, one forward pass), `adapter` (the folder: safetensors + JSON, apply),
`report` (base vs calibrated vs adapted in the evaluation report format), `train` (`adapt`), `heldout`
(`evaluate_adapter`).
"""

from emostudio.adapt.adapter import (
    ADAPTER_FORMAT,
    Adapted,
    Adapter,
    adapter_for,
    load_adapter,
    resolve_adapter,
    save_adapter,
)
from emostudio.adapt.cache import EmbeddingCache, default_cache_dir, embed_items
from emostudio.adapt.calibration import fit_temperature
from emostudio.adapt.errors import AdapterError, AdapterMismatchError, AdaptError, TooFewExamplesError
from emostudio.adapt.heldout import evaluate_adapter
from emostudio.adapt.train import DEFAULT_FOLDS, Adaptation, adapt

__all__ = [
    "ADAPTER_FORMAT",
    "DEFAULT_FOLDS",
    "AdaptError",
    "Adaptation",
    "Adapted",
    "Adapter",
    "AdapterError",
    "AdapterMismatchError",
    "EmbeddingCache",
    "TooFewExamplesError",
    "adapt",
    "adapter_for",
    "default_cache_dir",
    "embed_items",
    "evaluate_adapter",
    "fit_temperature",
    "load_adapter",
    "resolve_adapter",
    "save_adapter",
]
