"""Typed errors of adaptation. Each names the file or the classes at fault and what to do."""

from __future__ import annotations

from emostudio.errors import EmoStudioError


class AdaptError(EmoStudioError):
    """An adapter cannot be trained: bad options, a label set that cannot be learnt, an unusable output folder."""

    code = "adapt_error"
    status = 422  # the HTTP status the REST API will answer with


class TooFewExamplesError(AdaptError):
    """A class has fewer labelled files than cross-validation needs to measure it (default: 5 per class)."""

    code = "too_few_examples"


class AdapterError(AdaptError):
    """An adapter folder that is missing, damaged or not an emostudio adapter; names the file."""

    code = "bad_adapter"


class AdapterMismatchError(AdapterError):
    """An adapter trained on other model weights than the loaded model's; names both sha256 hashes."""

    code = "adapter_mismatch"
    status = 409
