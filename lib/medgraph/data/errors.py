"""Exceptions of the data layer.

Every message is a single line that names the data set or the file at fault and, where it can,
says what to do next, so that a command-line user sees one readable line rather than a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DataError",
    "DataConfigError",
    "DataUnavailableError",
    "DataFormatError",
    "UnknownDatasetError",
]


def _one_line(message: object) -> str:
    """Fold a message onto one line (newlines become spaces)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


class DataError(Exception):
    """Base class of every error raised by :mod:`medgraph.data`."""

    def __init__(self, message: object) -> None:
        super().__init__(_one_line(message))


class DataConfigError(DataError):
    """The data layer was told to look somewhere that does not exist.

    Raised when ``MEDGRAPH_DATA`` or an explicit ``root`` names a missing folder (or a file). It
    is deliberately not a :class:`DataUnavailableError`, so ``load_dataset(..., source="auto")``
    does not fall back to phantoms: a typo in a path must not silently replace the real data.

    Attributes
    ----------
    setting : str
        What named the path: ``"MEDGRAPH_DATA"`` or ``"root"``.
    path : pathlib.Path
        The path as given (``~`` expanded).
    """

    def __init__(self, message: object, setting: str = "", path: str | Path | None = None) -> None:
        super().__init__(message)
        self.setting = setting
        self.path = Path(path) if path is not None else None


class DataUnavailableError(DataError):
    """A data set is not present anywhere the data layer looks.

    Attributes
    ----------
    name : str
        Registry name of the missing data set.
    looked_in : tuple of str
        The places searched, in order, as ``"label=path"`` strings.
    """

    def __init__(self, message: object, name: str = "", looked_in: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.looked_in = tuple(looked_in)


class DataFormatError(DataError):
    """A file exists but does not hold what the published layout promises.

    Raised for an unreadable or corrupt image, a mask with an unknown label value, an image and
    mask of different sizes, a missing mask, or a folder without images.

    Attributes
    ----------
    path : pathlib.Path or None
        The offending file or folder.
    """

    def __init__(self, message: object, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class UnknownDatasetError(DataError, KeyError):
    """A name that is not in the registry (also a :class:`KeyError`)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""
