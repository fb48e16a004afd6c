"""Emotion profiles per speaker in a vector database: records, store (Qdrant), trends with alerts, comparisons.

    from emostudio import Recognizer
    from emostudio.profiles import ProfileStore, add_sources, trend, summarize, AlertRule

    with ProfileStore() as store:                         # ~/.local/share/emostudio/profiles (Qdrant Edge)
        add_sources(store, ["calls/"], speaker="cust-42", recognizer=Recognizer(model="large"))
        recs = store.speaker_records("cust-42")
        print(summarize(recs).to_dict())
        t = trend(recs, by="week", rule=AlertRule(threshold=0.15))
        print(t.table, t.alert.message["en"])
        store.search(query_vector, k=5, speaker="cust-42")
        store.delete_speaker("cust-42")                    # every record of that speaker, nothing else

`ProfileStore("http://host:6333")` talks to a Qdrant server or cluster with the same code. The local store is a
folder on Qdrant Edge (the Qdrant engine in-process: segments, payload indexes, a write-ahead log); nothing in it
is ever unpickled. Folders of the old format (qdrant-client local mode) are refused with the command that migrates
them (`emostudio profile migrate OLD NEW`, see `legacy`).
"""

from emostudio.profiles.analysis import (
    Alert,
    AlertRule,
    Comparison,
    SpeakerSummary,
    Trend,
    compare,
    summarize,
    trend,
)
from emostudio.profiles.errors import (
    AmbiguousModelError,
    BadTimeError,
    DimensionMismatchError,
    EmptyStoreError,
    ProfileError,
    StoreLockedError,
    StoreUnreachableError,
    TimeRangeError,
    UnknownSpeakerError,
)
from emostudio.profiles.ingest import AddReport, add_batch_results, add_run, add_sources, record_from_clip
from emostudio.profiles.records import NEGATIVE, ProfileRecord, default_store_path, parse_time, record_id
from emostudio.profiles.store import CollectionRef, ProfileStore, open_store

__all__ = [
    "NEGATIVE",
    "AddReport",
    "Alert",
    "AlertRule",
    "AmbiguousModelError",
    "BadTimeError",
    "TimeRangeError",
    "CollectionRef",
    "Comparison",
    "DimensionMismatchError",
    "EmptyStoreError",
    "ProfileError",
    "ProfileRecord",
    "ProfileStore",
    "SpeakerSummary",
    "StoreLockedError",
    "StoreUnreachableError",
    "Trend",
    "UnknownSpeakerError",
    "add_batch_results",
    "add_run",
    "add_sources",
    "compare",
    "default_store_path",
    "open_store",
    "parse_time",
    "record_from_clip",
    "record_id",
    "summarize",
    "trend",
]
