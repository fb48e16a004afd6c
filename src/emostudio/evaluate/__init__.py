"""Evaluation on a user's own labelled test set: accuracy, calibration, stability over time, a report folder.

>>> from emostudio.evaluate import evaluate, load_models
>>> ev = evaluate("testset.csv", load_models(["large", "large@int8"]), classes="all", baseline="evaluations/eval_…")
>>> ev.doc["models"]["large"]["ua"], ev.exit_code, ev.report_dir

Modules: `manifest` (reading labelled sets), `metrics` (WA/UA/F1/ECE/…, pure functions), `runner` (one decode per
file shared by every model), `stability` (baseline comparison, run history), `charts` and `report` (the folder).
"""

from emostudio.evaluate.manifest import (
    CLASS_MODES,
    FOUR_CLASSES,
    BadRow,
    EvaluationError,
    LabelledItem,
    Manifest,
    ManifestError,
    load_manifest,
)
from emostudio.evaluate.metrics import DEFAULT_ECE_BINS, compute_metrics, expected_calibration_error, restrict
from emostudio.evaluate.report import read_report
from emostudio.evaluate.run import (
    EXIT_BAD_ROWS,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNSTABLE,
    Evaluation,
    evaluate,
)
from emostudio.evaluate.runner import (
    EvaluationAborted,
    ModelUnderTest,
    Progress,
    load_models,
    model_from_recognizer,
)
from emostudio.evaluate.stability import StabilityThresholds, read_history
from emostudio.runs import REPORT_ID  # the id of a report folder, eval_YYYYMMDD_HHMMSS[_N]

__all__ = [
    "CLASS_MODES",
    "DEFAULT_ECE_BINS",
    "EXIT_BAD_ROWS",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_UNSTABLE",
    "EvaluationAborted",
    "FOUR_CLASSES",
    "REPORT_ID",
    "BadRow",
    "Evaluation",
    "EvaluationError",
    "LabelledItem",
    "Manifest",
    "ManifestError",
    "ModelUnderTest",
    "Progress",
    "StabilityThresholds",
    "compute_metrics",
    "evaluate",
    "expected_calibration_error",
    "load_manifest",
    "load_models",
    "model_from_recognizer",
    "read_history",
    "read_report",
    "restrict",
]
