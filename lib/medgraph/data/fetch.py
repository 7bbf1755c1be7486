"""Getting a data set onto the disk: download it, or register a local copy.

:func:`fetch` is the only function of :mod:`medgraph.data` that touches the network, and only for
data sets whose registry entry says ``auto_download=True``. A download goes to a ``.part`` file that
is renamed when complete; its sha256 is compared with the registry's pin when there is one and is
always recorded in ``.medgraph-fetch.json`` inside the data-set folder; zip archives are unpacked
into a staging folder whose layout and file counts are verified before it is renamed into place,
so a half-finished fetch never looks like a data set.

``fetch(name, from_dir=DIR)`` instead verifies the layout of a local copy and symlinks it into the
cache, which is how a machine without internet access uses a shared copy.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from medgraph.data.errors import DataError, DataFormatError, DataUnavailableError
from medgraph.data.paths import (
    ENV_DATA,
    cache_dir,
    count_problems,
    find_in,
    locate,
    matches_layout,
)
from medgraph.data.registry import REGISTRY, DatasetInfo, Download, get_info

__all__ = ["fetch", "FETCH_RECORD"]

FETCH_RECORD = ".medgraph-fetch.json"
_CHUNK = 1 << 20  # bytes per read


def _say(message: str, enabled: bool) -> None:
    if enabled:
        print(message, file=sys.stderr)


def fetch(
    name: str,
    dest: str | Path | None = None,
    from_dir: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Download a data set, or register a local copy of it, and return its folder.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"wbc1"``.
    dest : str or Path, optional
        Data root to put the data-set folder in; default :func:`medgraph.data.cache_dir`. (A
        folder outside the cache is found later only through ``root=`` or ``MEDGRAPH_DATA``.)
    from_dir : str or Path, optional
        A local copy: the data-set folder itself or a directory holding it. Its layout is
        verified, file-count differences are reported, and ``dest/<folder>`` becomes a symlink to
        it (a copy where symlinks are not possible). Nothing is downloaded.
    progress : bool
        Show a progress bar and status lines on stderr.

    Returns
    -------
    Path
        ``dest/<folder>``, e.g. ``data/cache/wbc``. When the data set is already present (in
        ``dest``, or, without ``dest``, anywhere :func:`medgraph.data.locate` looks), that folder
        is returned and nothing is fetched.

    Raises
    ------
    DataUnavailableError
        For a manual data set without ``from_dir``; the message says where to get it.
    DataFormatError
        When ``from_dir`` or the downloaded files do not have the published layout.
    DataError
        When a download fails, is truncated, or does not match the pinned sha256.
    """
    info = get_info(name)
    parent = Path(dest).expanduser() if dest is not None else cache_dir()
    if from_dir is not None:
        return _register_local(info, Path(from_dir).expanduser(), parent, progress)
    existing = find_in(info, parent)
    if existing is None and dest is None:  # also accept a copy under MEDGRAPH_DATA
        try:
            existing = locate(name)
        except DataUnavailableError:
            existing = None
    if existing is not None:
        _say(f"{name}: already present at {existing}", progress)
        return existing
    if not info.auto_download:
        raise DataUnavailableError(
            f"{name} ({info.title}) cannot be downloaded automatically. {info.how_to_get} "
            f"Once registered it lives at {parent / info.folder}.",
            name=name,
            looked_in=(str(parent),),
        )
    return _download_dataset(info, parent, progress)


# -- local copies ---------------------------------------------------------------------------------


def _register_local(info: DatasetInfo, source: Path, parent: Path, progress: bool) -> Path:
    found = find_in(info, source)
    if found is None:
        wanted = " or ".join(info.markers) if info.markers else "/".join(info.folders)
        raise DataFormatError(
            f"{source} does not hold {info.name}: expected {wanted} in it or in a sub-folder named "
            f"{'/'.join(info.folders)}",
            path=source,
        )
    found = found.resolve()
    for problem in count_problems(info, found):
        _say(
            f"note: {info.name} at {found}: {problem} (a partial or differently packed copy)",
            progress,
        )
    target = parent / info.folder
    if target.is_symlink():
        if target.resolve() == found:
            _say(f"{info.name}: {target} already points at {found}", progress)
            return target
        target.unlink()
    elif target.exists():
        if target.resolve() == found:
            return target
        raise DataError(
            f"{target} already exists and is not a link; remove it to register {found} instead"
        )
    parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(found, target_is_directory=True)
        _say(f"{info.name}: linked {target} -> {found}", progress)
    except OSError:  # no symlinks on this file system: copy instead
        shutil.copytree(found, target, symlinks=True)
        _say(f"{info.name}: copied {found} to {target}", progress)
    return target


# -- downloads ------------------------------------------------------------------------------------


def _download_dataset(info: DatasetInfo, parent: Path, progress: bool) -> Path:
    target = parent / info.folder
    if target.exists() or target.is_symlink():
        raise DataError(
            f"{target} exists but does not hold {info.name}; remove it and run "
            f"`medgraph data fetch {info.name}` again"
        )
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{info.folder}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    downloads = parent / ".downloads"
    downloads.mkdir(exist_ok=True)

    try:
        records = [
            _fetch_one(item, downloads, staging, info.name, progress) for item in info.downloads
        ]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # nothing usable yet: leave no half folder
        raise

    # every registry entry served by the same files (wbc1 and wbc2) must be complete
    served = [i for i in REGISTRY.values() if i.downloads == info.downloads] or [info]
    if info not in served:
        served.append(info)
    for entry in served:
        if not matches_layout(entry, staging):
            raise DataFormatError(
                f"the files downloaded for {info.name} lack {' or '.join(entry.markers)} "
                f"(left in {staging} for inspection)",
                path=staging,
            )
        problems = count_problems(entry, staging)
        if problems:
            raise DataFormatError(
                f"the files downloaded for {entry.name} have unexpected counts: "
                f"{'; '.join(problems)} (left in {staging} for inspection)",
                path=staging,
            )
    record = {
        "datasets": [entry.name for entry in served],
        "fetched_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": records,
        "counts": {p: n for entry in served for p, n in entry.expected_counts.items()},
        "note": "sha256 is of the downloaded file; counts were verified after extraction",
    }
    (staging / FETCH_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(staging, target)
    _say(
        f"{info.name}: ready at {target} (use it with root={parent} or {ENV_DATA}={parent})"
        if parent != cache_dir()
        else f"{info.name}: ready at {target}",
        progress,
    )
    return target


def _fetch_one(
    item: Download, downloads: Path, staging: Path, name: str, progress: bool
) -> dict[str, Any]:
    """Download one file, check its pin, and unpack or move it into ``staging``."""
    path = downloads / item.filename
    digest, size = _download(item, path, name, progress)
    if item.sha256 is not None and digest != item.sha256.lower():
        path.unlink(missing_ok=True)
        raise DataError(
            f"{item.url}: sha256 {digest} does not match the pinned {item.sha256}; the file "
            "changed upstream or the download was corrupted"
        )
    if item.extract:
        _extract_zip(path, staging, item.strip_top)
        path.unlink()
    else:
        shutil.move(str(path), staging / item.filename)
    return {
        "url": item.url,
        "filename": item.filename,
        "bytes": size,
        "sha256": digest,
        "pinned_sha256": item.sha256,
        "extracted": item.extract,
    }


def _download(item: Download, dest: Path, name: str, progress: bool) -> tuple[str, int]:
    """Stream ``item.url`` to ``dest`` through ``dest.part``; return (sha256 hex, bytes)."""
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    size = 0
    total: int | None = None
    request = urllib.request.Request(item.url, headers={"User-Agent": "medgraph-data-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response, open(part, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=item.filename,
                disable=not progress,
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"download of {item.url} failed ({reason}); retry later, or get the files another "
            f"way and run `medgraph data fetch {name} --from DIR`"
        ) from exc
    if total is not None and size != total:
        part.unlink(missing_ok=True)
        raise DataError(f"download of {item.url} stopped after {size} of {total} bytes; retry")
    os.replace(part, dest)
    return digest.hexdigest(), size


def _extract_zip(archive: Path, dest: Path, strip_top: bool) -> None:
    """Unpack ``archive`` into ``dest``, optionally dropping its single top-level folder."""
    unpack_to = dest / f".unpack-{archive.stem}" if strip_top else dest
    unpack_to.mkdir(parents=True, exist_ok=True)
    root = unpack_to.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                if not (root / member.filename).resolve().is_relative_to(root):
                    raise DataFormatError(
                        f"{archive}: member {member.filename!r} would land outside {dest}",
                        path=archive,
                    )
            zf.extractall(unpack_to)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise DataFormatError(
            f"{archive} is not a readable zip archive ({exc})", path=archive
        ) from exc
    shutil.rmtree(unpack_to / "__MACOSX", ignore_errors=True)
    if not strip_top:
        return
    entries = list(unpack_to.iterdir())
    inner = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpack_to
    for child in list(inner.iterdir()):
        destination = dest / child.name
        if destination.exists():
            raise DataFormatError(f"{archive}: {child.name} already exists in {dest}", path=archive)
        shutil.move(str(child), destination)
    shutil.rmtree(unpack_to)
