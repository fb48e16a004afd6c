"""Typed errors of the profile store. Each says what is wrong and what to do; none loses stored records."""

from __future__ import annotations

from emostudio.errors import EmoStudioError


class ProfileError(EmoStudioError):
    """A problem with the profile store or a request to it."""

    code = "profile_error"
    status = 422  # the HTTP status the REST API answers with


class UnknownSpeakerError(ProfileError):
    code = "unknown_speaker"
    status = 404

    def __init__(self, speaker: str, known: int | None = None, where: str = ""):
        self.speaker = speaker
        hint = f" ({known} speaker(s) stored; `emostudio profile show` lists them)" if known else ""
        super().__init__(f"no records for speaker {speaker!r}{where}{hint}")


class EmptyStoreError(ProfileError):
    code = "empty_store"
    status = 404


class DimensionMismatchError(ProfileError):
    code = "dimension_mismatch"


class AmbiguousModelError(ProfileError):
    """The request could mean records of several models, which never mix: name one."""

    code = "ambiguous_model"


class StoreLockedError(ProfileError):
    code = "store_locked"
    status = 409


class StoreUnreachableError(ProfileError):
    code = "store_unreachable"
    status = 503


class BadTimeError(ProfileError):
    code = "bad_time"


class TimeRangeError(BadTimeError):
    """A time the calendar cannot hold in every zone (year 1 or 9999 shifted by a zone offset)."""

    code = "time_out_of_range"
