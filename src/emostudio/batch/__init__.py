"""Batch jobs: many inputs → Parquet shards, resumable and crash-safe, locally or on Ray.

shards.py   the output folder: rows, atomic Parquet shards with embeddings and frame tables, the lock
job.py      a job's identity (model, weights hash, dtype, settings), resume checks, summary.json
runner.py   the local runner on emostudio.pipeline
ray.py      the same job on a Ray cluster (imported only when used)

What to analyse (a folder, a manifest, a wav.scp) is read by emostudio.inputs and the folder's file names are
emostudio.runs'; both are named here too, as this package's API.
"""

from emostudio.batch.job import (
    JOB_FILE,
    SUMMARY_FILE,
    BatchProgress,
    BatchSummary,
    check_job,
    finish_job,
    job_identity,
)
from emostudio.batch.runner import run_batch
from emostudio.batch.shards import (
    FRAMES_SCHEMA,
    PART_RE,
    SCHEMA,
    SCORE_COLUMNS,
    Row,
    RowContext,
    ShardStore,
    error_row,
    read_results,
    result_row,
)
from emostudio.errors import BatchError
from emostudio.inputs import ALIASES, audio_files, load_inputs
from emostudio.records import InputItem

__all__ = [
    "ALIASES",
    "FRAMES_SCHEMA",
    "JOB_FILE",
    "PART_RE",
    "SCHEMA",
    "SCORE_COLUMNS",
    "SUMMARY_FILE",
    "BatchError",
    "BatchProgress",
    "BatchSummary",
    "InputItem",
    "Row",
    "RowContext",
    "ShardStore",
    "audio_files",
    "check_job",
    "error_row",
    "finish_job",
    "job_identity",
    "load_inputs",
    "read_results",
    "result_row",
    "run_batch",
]
