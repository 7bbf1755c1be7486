"""Trained runs kept on disk: keyed by what they mean, verified when read, trained once.

A study's ``paper`` profile needs days of CPU time, so every run it trains is kept: first in the
*result cache* (``.cache/runs``, or ``MEDGRAPH_RESULT_CACHE``; git-ignored, one machine), and
finished runs in the committed *store* ``trained/`` (read-only, searched after the cache). A
report then regenerates from the stored runs in minutes.

**A run's key** (:class:`RunKey`) is what the run means: the study, the recipe that trains it
and the recipe's versions, the name of what is trained (a model), the training seed, the
hyperparameters that change what is trained, the checksum of the data and the split. Nothing
else enters it: not the source code (an unrelated change to the library leaves every stored run
valid), not how the run is carried out (:class:`medgraph.options.RunOptions`: device, progress,
caches, resume). When a change alters what a recipe trains, its version is bumped (a
golden-digest test, ``tests/test_golden_digests.py``, fails until it is), and its stored runs are
then ``to train`` again.

**A recipe** (:class:`Recipe`) is the small protocol every kind of run implements: its key, how
to train it, and how to turn the trained run into a payload of tensors, numbers, strings, lists
and dicts and back. Segmentation (:mod:`medgraph.segmentation.recipe`) is one; cell-type
classification, per-image optimisation and cross-validated classifiers use the same store.

**An entry** is one file ``<name>-seed<seed>-<key[:24]>.pt`` holding the key, its fields, the
payload (serialised by :func:`torch.save`) and the payload's SHA-256, checked on every read
(:func:`read_entry`). A damaged entry is an error naming the file (:class:`StoreIntegrityError`),
never a silent retrain of hours: retraining it takes ``RunOptions(retrain_damaged=True)``
(``--retrain-damaged`` of ``python -m medgraph.pieces``). Entries are written atomically.

**Training** (:func:`obtain`) happens only when neither the cache nor a store holds the run. It
holds a lock file (``<cache>/locks/<entry>.lock``) while it trains, so a second process asking
for the same run waits and then loads it (or, with ``wait_for_lock=False``, is told and skips
it); and it keeps a resume state in ``<cache>/partial/`` so that a run cut off by the end of a
machine session continues from its last finished epoch.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import torch

from medgraph.options import RunOptions
from medgraph.reporting import atomic_write, git_revision, repo_root

__all__ = [
    "FORMAT",
    "ENV_RESULT_CACHE",
    "ENV_RESULT_STORE",
    "PARTIAL",
    "StoreError",
    "StoreIntegrityError",
    "RunLockedError",
    "RunKey",
    "Recipe",
    "Entry",
    "default_result_cache",
    "resolve_result_cache",
    "result_stores",
    "payload_bytes",
    "write_entry",
    "read_entry",
    "find_entry",
    "entry_status",
    "run_lock",
    "obtain",
    "export_entry",
    "digest_fields",
    "pack_uint8",
    "unpack_uint8",
]

#: version of the entry layout
FORMAT = 2

#: environment variable naming the cache folder (see :func:`default_result_cache`)
ENV_RESULT_CACHE = "MEDGRAPH_RESULT_CACHE"
#: environment variable naming the committed stores, separated by ``os.pathsep``
ENV_RESULT_STORE = "MEDGRAPH_RESULT_STORE"
#: sub-folder of the cache holding the resume states of runs being trained
PARTIAL = "partial"
#: sub-folder of the cache holding the lock files of runs being trained
LOCKS = "locks"

T = TypeVar("T")
R = TypeVar("R")


class StoreError(RuntimeError):
    """A problem with the result cache or a store."""


class StoreIntegrityError(StoreError):
    """A stored entry cannot be read, belongs to another run, or fails its checksum."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class RunLockedError(StoreError):
    """Another process is training the run (raised only with ``wait_for_lock=False``)."""


# --------------------------------------------------------------------------------------------
# folders
# --------------------------------------------------------------------------------------------


def default_result_cache() -> Path:
    """The cache folder: ``MEDGRAPH_RESULT_CACHE``, else ``<workbook root>/.cache/runs``.

    ``.cache/`` is git-ignored. The folder is not created here.
    """
    env = os.environ.get(ENV_RESULT_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    return repo_root() / ".cache" / "runs"


def resolve_result_cache(value: str | os.PathLike[str] | bool | None) -> Path | None:
    """A notebook's ``result_cache`` parameter as a folder: None or False (off), ``"auto"``
    (:func:`default_result_cache`) or a path."""
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return default_result_cache()
    return Path(value).expanduser()  # type: ignore[arg-type]


def result_stores() -> list[Path]:
    """The read-only stores searched after the cache: ``MEDGRAPH_RESULT_STORE`` (folders separated
    by ``os.pathsep``; empty: none), else ``<workbook root>/trained``."""
    env = os.environ.get(ENV_RESULT_STORE)
    if env is not None:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return [repo_root() / "trained"]


def _stores(options: RunOptions) -> list[Path]:
    if options.stores is None:
        return result_stores()
    return [Path(p).expanduser() for p in options.stores]


# --------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """Tuples as lists and numpy scalars as Python numbers, so that equal keys hash equally."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


@dataclass(frozen=True)
class RunKey:
    """What a stored run is; its :attr:`digest` names the entry.

    Attributes
    ----------
    study : str
        The study that asks for the run (a module of :mod:`medgraph.studies`).
    recipe : str
        The recipe that trains it (e.g. ``"segmentation"``).
    versions : mapping str → int
        The versions of the recipe and of what it trains (e.g. ``{"segmentation": 1,
        "smgnn": 1}``); bumped when training behaviour changes.
    name : str
        What is trained (a model name); also the start of the entry's file name.
    seed : int
        The training seed.
    hyperparameters : mapping
        The settings that change what is trained (JSON values).
    data : str
        Checksum of the data (hex).
    split : sequence of index lists
        The split of the data (e.g. train, validation and test indices).
    """

    study: str
    recipe: str
    versions: Mapping[str, int]
    name: str
    seed: int
    hyperparameters: Mapping[str, Any]
    data: str
    split: Sequence[Sequence[int]]

    def fields(self) -> dict[str, Any]:
        """The key as a JSON-ready dict (what :attr:`digest` hashes)."""
        return _canonical(
            {
                "study": self.study,
                "recipe": self.recipe,
                "versions": dict(self.versions),
                "name": self.name,
                "seed": int(self.seed),
                "hyperparameters": dict(self.hyperparameters),
                "data": self.data,
                "split": [list(part) for part in self.split],
            }
        )

    @property
    def digest(self) -> str:
        """SHA-256 (64 hex digits) of :meth:`fields` serialised with sorted keys."""
        return digest_fields(self.fields())

    @property
    def file_name(self) -> str:
        """``<name>-seed<seed>-<digest[:24]>.pt`` (the name reduced to ``[A-Za-z0-9_-]``)."""
        safe = re.sub(r"[^A-Za-z0-9_-]", "p", self.name)
        return f"{safe}-seed{int(self.seed)}-{self.digest[:24]}.pt"


def digest_fields(fields: Mapping[str, Any]) -> str:
    """SHA-256 of key fields serialised as compact JSON with sorted keys."""
    text = json.dumps(_canonical(fields), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


class Recipe(Protocol[R]):
    """The protocol of a kind of run that the store keeps.

    A recipe turns a *request* (whatever it needs: data, split, hyperparameters, seed) into a
    :class:`RunKey`, trains it, and converts the trained run to and from a payload that
    :func:`torch.load` reads with ``weights_only=True`` (tensors, numbers, strings, lists, dicts).
    """

    name: str

    def key(self, study: str, request: Any) -> RunKey:
        """The key of ``request`` when ``study`` asks for it."""
        ...

    def train(self, request: Any, options: RunOptions) -> R:
        """Train the run (the options say how, never what)."""
        ...

    def to_payload(self, run: R) -> dict[str, Any]:
        """The trained run as a payload."""
        ...

    def from_payload(self, payload: Mapping[str, Any], request: Any, options: RunOptions) -> R:
        """The run back from its payload."""
        ...


# --------------------------------------------------------------------------------------------
# entries
# --------------------------------------------------------------------------------------------


def payload_bytes(payload: Mapping[str, Any]) -> bytes:
    """A payload serialised by :func:`torch.save`."""
    buffer = io.BytesIO()
    torch.save(dict(payload), buffer)
    return buffer.getvalue()


def pack_uint8(array: np.ndarray, level: int = 9) -> dict[str, Any]:
    """An array of values in 0 … 255 as ``{"shape", "zlib"}`` (zlib-compressed uint8 bytes), the
    compact form of label maps and cluster assignments in a payload."""
    arr = np.asarray(array)
    raw = np.ascontiguousarray(arr, dtype=np.uint8).tobytes()
    packed = np.frombuffer(zlib.compress(raw, level), dtype=np.uint8).copy()
    return {"shape": [int(v) for v in arr.shape], "zlib": torch.from_numpy(packed)}


def unpack_uint8(item: Mapping[str, Any]) -> np.ndarray:
    """Inverse of :func:`pack_uint8`: a writable uint8 array of the stored shape."""
    raw = zlib.decompress(item["zlib"].numpy().tobytes())
    return np.frombuffer(raw, dtype=np.uint8).reshape(item["shape"]).copy()


def write_entry(path: str | os.PathLike[str], key: RunKey, payload: Mapping[str, Any]) -> Path:
    """Write an entry atomically: the key, its fields, the payload and the payload's SHA-256.

    Returns
    -------
    Path
        ``path``.
    """
    blob = payload_bytes(payload)
    record = {
        "format": FORMAT,
        "key": key.digest,
        "fields": key.fields(),
        "payload_sha256": hashlib.sha256(blob).hexdigest(),
        "payload": blob,
    }
    return atomic_write(Path(path), lambda tmp: torch.save(record, tmp))


@dataclass(frozen=True)
class Entry:
    """An entry read and verified by :func:`read_entry`."""

    path: Path
    key: str
    fields: dict[str, Any]
    payload: dict[str, Any]
    payload_sha256: str


def _damaged(path: Path, what: str) -> StoreIntegrityError:
    return StoreIntegrityError(
        f"stored run {path} is damaged: {what}. Restore the file (for trained/: `git checkout -- "
        f"{path.name}` in its folder) or train the run again with --retrain-damaged "
        "(RunOptions(retrain_damaged=True))",
        path,
    )


def read_entry(path: str | os.PathLike[str], key: str | None = None) -> Entry:
    """Read an entry and verify it.

    Parameters
    ----------
    path : the entry file
    key : str, optional
        The key (hex) the entry must hold.

    Returns
    -------
    Entry

    Raises
    ------
    StoreIntegrityError
        When the file cannot be read, is not an entry of :data:`FORMAT`, holds another key, its
        fields do not hash to its key, or its payload fails its SHA-256.
    """
    path = Path(path)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to unpickle means the file is not what it should be
        raise _damaged(path, f"it cannot be read ({type(exc).__name__}: {exc})") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        found = record.get("format") if isinstance(record, dict) else type(record).__name__
        raise _damaged(path, f"it is not a run entry of format {FORMAT} (found {found!r})")
    stored_key = str(record.get("key"))
    if key is not None and stored_key != key:
        raise _damaged(path, f"it holds key {stored_key[:12]}…, not {key[:12]}…")
    fields = record.get("fields")
    if not isinstance(fields, dict) or digest_fields(fields) != stored_key:
        raise _damaged(path, "its key fields do not hash to its key")
    blob = record.get("payload")
    if not isinstance(blob, bytes):
        raise _damaged(path, "it holds no payload")
    actual = hashlib.sha256(blob).hexdigest()
    if actual != record.get("payload_sha256"):
        expected = str(record.get("payload_sha256"))
        raise _damaged(
            path, f"its payload's SHA-256 is {actual[:16]}…, the entry says {expected[:16]}…"
        )
    try:
        payload = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:  # the checksum matched, so the writer wrote something unreadable
        raise _damaged(path, f"its payload cannot be read ({type(exc).__name__}: {exc})") from exc
    return Entry(path, stored_key, fields, payload, actual)


def find_entry(key: RunKey, options: RunOptions) -> tuple[Path, str] | None:
    """Where the run's entry is: ``(path, "cache")`` or ``(path, "<store folder name>")``.

    The cache comes first, then the stores in order; None when no folder holds it.
    """
    places: list[tuple[Path, str]] = []
    if options.cache_path is not None:
        places.append((options.cache_path, "cache"))
    places += [(folder, folder.name) for folder in _stores(options)]
    for folder, label in places:
        path = folder / key.file_name
        if path.exists():
            return path, label
    return None


def entry_status(key: RunKey, options: RunOptions) -> tuple[str, Path | None, str]:
    """What the store can say of a run without training it, after verifying its entry.

    Returns
    -------
    state : {"cached", "stored", "damaged", "resumes", "training", "to train"}
        ``"cached"`` / ``"stored"``: a verified entry in the cache / a store; ``"damaged"``: an
        entry that fails :func:`read_entry`; ``"resumes"``: a resume state in the cache;
        ``"training"``: another process holds its lock; ``"to train"``: nothing yet.
    path : the entry, resume state or lock (None for ``"to train"``)
    detail : the error of a damaged entry, else ``""``
    """
    found = find_entry(key, options)
    if found is not None:
        path, label = found
        try:
            read_entry(path, key.digest)
        except StoreIntegrityError as exc:
            return "damaged", path, str(exc)
        return ("cached" if label == "cache" else "stored"), path, ""
    cache = options.cache_path
    if cache is not None:
        lock = cache / LOCKS / f"{key.file_name}.lock"
        if lock.exists() and _lock_held(lock):
            return "training", lock, ""
        partial = cache / PARTIAL / key.file_name
        if partial.exists():
            return "resumes", partial, ""
    return "to train", None, ""


# --------------------------------------------------------------------------------------------
# locks
# --------------------------------------------------------------------------------------------


def _lock_held(path: Path) -> bool:
    """Whether another process holds the lock file ``path``."""
    try:
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return False
    return False


@contextlib.contextmanager
def run_lock(cache: Path, key: RunKey, wait: bool = True) -> Iterator[None]:
    """Hold ``<cache>/locks/<entry>.lock`` (an exclusive ``flock``) while a run trains.

    Parameters
    ----------
    cache : the result cache
    key : the run's key
    wait : bool, default True
        Wait for another holder to finish (True) or raise :class:`RunLockedError` at once.
    """
    path = cache / LOCKS / f"{key.file_name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            if not wait:
                raise RunLockedError(
                    f"{key.file_name} is being trained by {holder} (lock {path})"
                ) from None
            warnings.warn(f"waiting for {holder}, which is training {key.file_name}", stacklevel=3)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------
# load or train
# --------------------------------------------------------------------------------------------


@dataclass
class _Loaded(Generic[T]):
    run: T
    where: str = field(default="")


def _load(recipe: Recipe[T], request: Any, key: RunKey, options: RunOptions) -> _Loaded[T] | None:
    """The run from the cache or a store (None if absent); a damaged entry raises or is skipped."""
    found = find_entry(key, options)
    if found is None:
        return None
    path, label = found
    try:
        entry = read_entry(path, key.digest)
    except StoreIntegrityError:
        if not options.retrain_damaged:
            raise
        warnings.warn(f"{path} is damaged; training the run again", stacklevel=3)
        return None
    run = recipe.from_payload(entry.payload, request, options)
    where = path.name if label == "cache" else f"{label}/{path.name}"
    provenance = getattr(run, "provenance", None)
    if isinstance(provenance, dict):
        provenance["from_cache"] = where
    return _Loaded(run, where)


def obtain(recipe: Recipe[T], study: str, request: Any, options: RunOptions | None = None) -> T:
    """The run ``study`` asks for: loaded from the cache or a store, else trained (and saved).

    Parameters
    ----------
    recipe : Recipe
    study : str
        The asking study (part of the key).
    request : what the recipe needs to key and train the run
    options : RunOptions, optional
        ``result_cache`` None trains without looking anything up or saving.

    Returns
    -------
    The recipe's run. When loaded, its ``provenance`` (if it has one) gains ``from_cache``, the
    entry's file name (``trained/<file>`` for a store).

    Raises
    ------
    StoreIntegrityError
        A damaged entry (unless ``options.retrain_damaged``).
    RunLockedError
        Another process trains the run and ``options.wait_for_lock`` is False.
    """
    opts = options if options is not None else RunOptions()
    key = recipe.key(study, request)
    cache = opts.cache_path
    if cache is None and opts.stores is None:
        return recipe.train(request, opts)
    loaded = _load(recipe, request, key, opts)
    if loaded is not None:
        return loaded.run
    if cache is None:
        return recipe.train(request, opts)
    with run_lock(cache, key, wait=opts.wait_for_lock):
        loaded = _load(recipe, request, key, opts)  # finished by another process meanwhile
        if loaded is not None:
            return loaded.run
        partial = cache / PARTIAL / key.file_name
        resumable = opts if opts.resume is not None else opts.replace(resume=str(partial))
        revision = git_revision()  # the code at the start (a long run may outlive a commit)
        run = recipe.train(request, resumable)
        provenance = getattr(run, "provenance", None)
        if isinstance(provenance, dict):
            provenance["git_revision"] = revision
        payload = recipe.to_payload(run)
        write_entry(cache / key.file_name, key, payload)
        if opts.resume is None:
            partial.unlink(missing_ok=True)
        return run


def export_entry(
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Path:
    """Copy a verified entry to a store, optionally transforming its payload (a slim form).

    The key and its fields are kept; the payload's checksum is computed anew.
    """
    entry = read_entry(source)
    payload = transform(dict(entry.payload)) if transform is not None else entry.payload
    blob = payload_bytes(payload)
    record = {
        "format": FORMAT,
        "key": entry.key,
        "fields": entry.fields,
        "payload_sha256": hashlib.sha256(blob).hexdigest(),
        "payload": blob,
    }
    return atomic_write(Path(destination), lambda tmp: torch.save(record, tmp))
