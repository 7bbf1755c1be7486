"""Where data sets are looked for: an explicit root, ``MEDGRAPH_DATA``, then the cache.

Nothing here downloads. A *data root* is a directory that holds data-set folders (``wbc/``,
``isic2017/`` …); :func:`locate` also accepts the data-set folder itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from medgraph.data.errors import DataUnavailableError
from medgraph.data.registry import DatasetInfo, get_info

__all__ = [
    "ENV_DATA",
    "ENV_CACHE",
    "data_root",
    "cache_dir",
    "locate",
    "find_in",
    "matches_layout",
    "count_problems",
    "unavailable_message",
]

ENV_DATA = "MEDGRAPH_DATA"
ENV_CACHE = "MEDGRAPH_CACHE"


def _env_path(var: str) -> Path | None:
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None


def data_root() -> Path | None:
    """The data root named by the environment variable ``MEDGRAPH_DATA``, or ``None``.

    The path is returned as given (``~`` expanded); it need not exist.
    """
    return _env_path(ENV_DATA)


def _source_checkout() -> Path | None:
    """The repository root when this package runs from a source checkout (``lib/medgraph/…``)."""
    here = Path(__file__).resolve()
    repo = here.parents[3]  # data/ -> medgraph/ -> lib/ -> repository root
    if here.parents[2].name == "lib" and (repo / "pyproject.toml").is_file():
        return repo
    return None


def cache_dir() -> Path:
    """Directory where :func:`medgraph.data.fetch` puts data sets.

    ``MEDGRAPH_CACHE`` when set; otherwise ``<repo>/data/cache`` in a source checkout (git-ignored);
    otherwise ``~/.cache/medgraph``. The directory is not created here.
    """
    env = _env_path(ENV_CACHE)
    if env is not None:
        return env
    repo = _source_checkout()
    if repo is not None:
        return repo / "data" / "cache"
    return Path.home() / ".cache" / "medgraph"


def matches_layout(info: DatasetInfo, folder: Path) -> bool:
    """Whether ``folder`` looks like the data set: a directory holding one of ``info.markers``.

    With no markers, a directory whose name is one of ``info.folders`` qualifies.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return False
    if not info.markers:
        return folder.name in info.folders
    return any((folder / marker).exists() for marker in info.markers)


def find_in(info: DatasetInfo, base: str | Path) -> Path | None:
    """The data-set folder at ``base``: ``base`` itself or ``base/<folder>``; ``None`` if neither."""
    base = Path(base).expanduser()
    if info.markers and matches_layout(info, base):
        return base
    for name in info.folders:
        candidate = base / name
        if matches_layout(info, candidate):
            return candidate
    return None


def count_problems(info: DatasetInfo, folder: str | Path) -> list[str]:
    """Compare file counts in ``folder`` with ``info.expected_counts``.

    Returns
    -------
    list of str
        One ``"pattern: found N, expected M"`` line per mismatch; empty when all agree.
    """
    folder = Path(folder)
    problems = []
    for pattern, expected in info.expected_counts.items():
        found = sum(1 for _ in folder.glob(pattern))
        if found != expected:
            problems.append(f"{pattern}: found {found}, expected {expected}")
    return problems


def _candidates(root: str | Path | None) -> list[tuple[str, Path | None]]:
    return [
        ("root", Path(root).expanduser() if root is not None else None),
        (ENV_DATA, data_root()),
        ("cache", cache_dir()),
    ]


def locate(name: str, root: str | Path | None = None) -> Path:
    """Find the folder of a data set on disk; never downloads.

    Looks, in order, in ``root`` (the data-set folder itself or a directory holding it), in the
    directory named by ``MEDGRAPH_DATA``, and in :func:`cache_dir`.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"wbc1"``.
    root : str or Path, optional
        Explicit location, tried first.

    Returns
    -------
    Path
        The data-set folder (e.g. ``…/wbc`` for ``wbc1``).

    Raises
    ------
    DataUnavailableError
        When no location holds it; the message lists where it looked and how to get it.
    UnknownDatasetError
        For a name not in the registry.
    """
    info = get_info(name)
    looked: list[str] = []
    for label, base in _candidates(root):
        if base is None:
            if label == ENV_DATA:
                looked.append(f"{ENV_DATA} (not set)")
            continue
        found = find_in(info, base)
        if found is not None:
            return found.absolute()
        looked.append(f"{label}={base}")
    raise DataUnavailableError(
        unavailable_message(info, looked), name=name, looked_in=tuple(looked)
    )


def unavailable_message(info: DatasetInfo, looked: list[str]) -> str:
    """The one-line message of a :class:`DataUnavailableError` for ``info``."""
    where = "; ".join(looked) if looked else "nowhere"
    folders = "/".join(info.folders)
    if info.auto_download:
        how = (
            f"get it with `medgraph data fetch {info.name}` (downloads into {cache_dir()}), or use "
            f"a local copy with `medgraph data fetch {info.name} --from DIR` or {ENV_DATA}=DIR"
        )
    else:
        how = (
            f"it must be downloaded by hand from {info.source_url}, then registered with "
            f"`medgraph data fetch {info.name} --from DIR` or {ENV_DATA}=DIR"
        )
    return (
        f"data set {info.name!r} ({info.title}) not found (looked for a folder named {folders} "
        f"in: {where}); {how}"
    )
