"""Where data sets are looked for: an explicit root, ``MEDGRAPH_DATA``, then the cache.

Nothing here downloads. A *data root* is a directory that holds data-set folders (``wbc/``,
``isic2017/`` …); :func:`locate` also accepts the data-set folder itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from medgraph.data.errors import DataConfigError, DataUnavailableError
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
    "check_search_folder",
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


def check_search_folder(label: str, path: Path) -> None:
    """Refuse a search location that the user named but that is not a folder.

    Parameters
    ----------
    label : {"root", "MEDGRAPH_DATA"}
        What named ``path``: the explicit ``root`` argument or the environment variable.
    path : Path
        The location as given.

    Raises
    ------
    DataConfigError
        When ``path`` does not exist or is not a directory; the one-line message names the
        setting, the path and how to fix it.
    """
    if path.is_dir():
        return
    what = "is not a folder" if path.exists() else "does not exist"
    if label == ENV_DATA:
        fix = (
            "point it at a folder holding the data sets (see data/README.md) or unset it to use "
            "the synthetic phantoms"
        )
    else:
        fix = (
            "pass the data-set folder or a folder holding it (see data/README.md), or leave root "
            f"unset to search {ENV_DATA} and the cache"
        )
    raise DataConfigError(f"{label}={path} {what}; {fix}", setting=label, path=path)


def locate(name: str, root: str | Path | None = None) -> Path:
    """Find the folder of a data set on disk; never downloads.

    Looks, in order, in ``root`` (the data-set folder itself or a directory holding it), in the
    directory named by ``MEDGRAPH_DATA``, and in :func:`cache_dir`. ``root`` and
    ``MEDGRAPH_DATA`` must name existing folders when they are consulted: a missing one is a
    configuration error, never a reason to look elsewhere (a missing cache is simply empty).

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
    DataConfigError
        When ``root`` does not exist, or when the search reaches ``MEDGRAPH_DATA`` and it names a
        missing folder (an existing ``root`` that holds the data set is returned first).
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
        if label != "cache":
            check_search_folder(label, base)
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
