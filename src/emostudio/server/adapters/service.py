"""Adapters of one server: `outputs/adapters/<id>/` (what `emostudio adapt` writes), the one given to `serve
--adapter DIR`, and the active one (read from every result by the server's Recognizer).

    store = adapters_for(service)
    info = store.train(manifest)                  # AdaptError (TooFewExamplesError, …) → 422
    store.list_adapters() · store.get(id) · store.activate(id) (409 for other weights) · store.deactivate() · store.delete(id)

Training reads the same inputs as an evaluation upload (a zip, a manifest + files, or a server folder under the
allowed roots; custom labels kept), scores the set with the loaded model (one training at a time) and writes
the adapter with its cross-validated report.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from emostudio import atomic
from emostudio.adapt import Adapter, AdapterError, adapt, load_adapter
from emostudio.adapt.adapter import INFO_FILE, REPORT_DIR
from emostudio.errors import EmoStudioError, printable
from emostudio.evaluate import Manifest, ManifestError, load_manifest
from emostudio.server.evaluate.inputs import (
    ROOTS_ENV,
    ForbiddenPathError,
    UploadError,
    allowed_roots,
    extract_archive,
    find_test_set,
    inside,
    remap_to_uploads,
)
from emostudio.server.worker import QueueFullError

ADAPTERS_DIR = "adapters"
UPLOADS_DIR = ".uploads"
ACTIVE_FILE = "active.json"  # {"id": ...} or {"id": null}: the adapter the server reads, kept over restarts


class AdapterNotFoundError(EmoStudioError):
    """No adapter of that id on this server (HTTP 404)."""

    code = "adapter_not_found"
    status = 404


class AdapterStore:
    """The adapters of one server process (see the module doc)."""

    def __init__(self, service, initial: str | os.PathLike | None = None):
        self.service = service
        self.initial: Adapter | None = load_adapter(initial) if initial is not None else None
        self.active: Adapter | None = None
        self._training = threading.Lock()

    @property
    def root(self) -> Path:
        return Path(self.service.settings.outputs) / ADAPTERS_DIR

    # ---- finding ---------------------------------------------------------------------------------------------
    def folders(self) -> dict[str, Path]:
        """id → folder of every adapter this server knows (its own folder's, then the one given at start)."""
        found: dict[str, Path] = {}
        if self.root.is_dir():
            for p in sorted(self.root.iterdir()):
                if p.is_dir() and (p / INFO_FILE).is_file() and not p.name.startswith("."):
                    found[p.name] = p
        if self.initial is not None and self.initial.folder is not None:
            found.setdefault(self.initial.id, self.initial.folder)
        return found

    def load(self, adapter_id: str) -> Adapter:
        folder = self.folders().get(str(adapter_id))
        if folder is None:
            raise AdapterNotFoundError(f"no adapter {printable(adapter_id)} on this server")
        return load_adapter(folder)

    def summary(self, adapter: Adapter) -> dict:
        """One adapter as listed: id, labels, kind, base model, training set, CV headline, active, fits."""
        info = adapter.info
        rec = self.service.recognizer
        return {
            "id": adapter.id,
            "labels": list(adapter.labels),
            "label_kind": info.get("label_kind"),
            "created": info.get("created"),
            "model": info.get("model"),
            "set": {k: v for k, v in (info.get("set") or {}).items() if k != "train_content_sha256"},
            "cv": info.get("cv"),
            "active": self.active is not None and self.active.id == adapter.id,
            "fits_model": None if rec is None else adapter.weights_sha256 == rec.model.fingerprint(),
            "links": {
                "self": f"/v1/adapters/{adapter.id}",
                "activate": f"/v1/adapters/{adapter.id}/activate",
            },
        }

    def list_adapters(self) -> dict:
        items = []
        for folder in self.folders().values():
            try:
                items.append(self.summary(load_adapter(folder)))
            except AdapterError as exc:  # a damaged folder is listed as such, never hides the others
                items.append({"id": folder.name, "error": {"code": exc.code, "message": str(exc)}})
        return {"adapters": items, "active": self.active.id if self.active else None}

    def get(self, adapter_id: str) -> dict:
        """adapter.json and its cross-validated report (metrics.json) of one adapter."""
        adapter = self.load(adapter_id)
        report = None
        if adapter.folder is not None and (adapter.folder / REPORT_DIR / "metrics.json").is_file():
            report = _read_json(adapter.folder / REPORT_DIR / "metrics.json")
        return {**self.summary(adapter), "info": adapter.info, "report": report}

    # ---- the active adapter ------------------------------------------------------------------------------------
    def attach(self, rec) -> None:
        """When the model has loaded: the adapter given at start, else the one active before a restart.
        AdapterMismatchError (the model stays unloaded, /readyz says why) for one of other weights."""
        chosen = self.initial
        if chosen is None and (self.root / ACTIVE_FILE).is_file():
            wanted = _read_json(self.root / ACTIVE_FILE).get("id")
            if wanted and wanted in self.folders():
                chosen = load_adapter(self.folders()[wanted])
        if chosen is not None:
            rec.use_adapter(chosen)  # checks the weights
        self.active = chosen

    def activate(self, adapter_id: str) -> dict:
        """Make one adapter the server's: every later result carries its reading. 409 for other weights."""
        rec, _ = self.service._ready()
        adapter = self.load(adapter_id)
        rec.use_adapter(adapter)  # AdapterMismatchError (409) names both hashes
        self.active = adapter
        self._remember(adapter.id)
        return self.summary(adapter)

    def deactivate(self) -> dict:
        rec, _ = self.service._ready()
        rec.use_adapter(None)
        self.active = None
        self._remember(None)
        return {"active": None}

    def _remember(self, adapter_id: str | None) -> None:
        atomic.write_json(self.root / ACTIVE_FILE, {"id": adapter_id})

    def delete(self, adapter_id: str) -> dict:
        folder = self.folders().get(str(adapter_id))
        if folder is None:
            raise AdapterNotFoundError(f"no adapter {printable(adapter_id)} on this server")
        if folder.parent != self.root:
            raise AdapterError(
                f"adapter {adapter_id} is the folder {printable(folder)} given to `serve --adapter`; the "
                "server deletes only the adapters it trained"
            )
        if self.active is not None and self.active.id == adapter_id:
            self.deactivate()
        shutil.rmtree(folder)
        return {"deleted": adapter_id}

    # ---- training ----------------------------------------------------------------------------------------------
    def uploads_dir(self) -> Path:
        """A fresh folder for one training's uploads (removed when the training ends)."""
        self.service._ready()  # 503 before any upload is stored when there is no model
        base = self.root / UPLOADS_DIR
        base.mkdir(parents=True, exist_ok=True)
        return _temp_dir(base)

    def manifest_from_archive(self, archive: Path, uploads: Path, classes: str) -> Manifest:
        data = uploads / "data"
        data.mkdir(exist_ok=True)
        extract_archive(archive, data, max_bytes=20 * self.service.settings.max_upload_bytes)
        archive.unlink(missing_ok=True)
        return load_manifest(find_test_set(data), classes, allowed_roots=[data], custom_labels=True)

    def manifest_from_files(self, manifest: Path, files: list[Path], classes: str) -> Manifest:
        by_name: dict[str, Path] = {}
        for f in files:
            if f.name in by_name:
                raise UploadError(f"two uploaded files are called {f.name}; file names must be unique")
            by_name[f.name] = f
        return remap_to_uploads(load_manifest(manifest, classes, custom_labels=True), by_name)

    def manifest_from_server(self, path: str, classes: str) -> Manifest:
        roots = allowed_roots(self.service.settings)
        if not roots:
            raise ForbiddenPathError(
                f"this server reads no folders for adapters; start it with {ROOTS_ENV}=/path/to/sets "
                "(folders separated by ':') or upload the set"
            )
        p = Path(os.path.expanduser(path))
        for c in [p] if p.is_absolute() else [r / p for r in roots]:
            if c.exists() and inside(c, roots):
                return load_manifest(
                    Path(os.path.realpath(c)), classes, allowed_roots=roots, custom_labels=True
                )
            if c.exists():
                raise ForbiddenPathError(f"{path} is outside the folders this server may read")
        raise ManifestError(f"{path}: no such manifest or folder under the allowed roots")

    def train(self, manifest: Manifest, *, classes: str = "all", folds: int = 5, n_boot: int = 1000) -> dict:
        """Train an adapter for the loaded model on `manifest` (blocking; one at a time) and store it."""
        rec, _ = self.service._ready()
        if not self._training.acquire(blocking=False):
            raise QueueFullError("an adapter is being trained; one trains at a time, try again later")
        staging = _temp_dir(self.root)
        try:
            run = adapt(
                manifest, rec, staging, folds=folds, classes=classes, n_boot=n_boot, overwrite=True, workers=1
            )
            final = self.root / run.adapter.id
            if final.exists():
                shutil.rmtree(staging)
            else:
                os.replace(staging, final)
            return {**self.get(run.adapter.id), "warnings": [str(w) for w in run.warnings]}
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
            self._training.release()


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise AdapterError(f"{printable(path)}: unreadable ({e})") from e
    return doc if isinstance(doc, dict) else {}


def _temp_dir(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".new-", dir=base))


def adapters_for(service, initial: str | os.PathLike | None = None) -> AdapterStore:
    """The store of `service` (one per server; made on first use, attached to the model when it loads)."""
    store = getattr(service, "adapters", None)
    if store is None:
        store = AdapterStore(service, initial)
        service.adapters = store
    return store
