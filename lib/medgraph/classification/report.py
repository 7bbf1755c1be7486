"""The classifier's report: the confusion matrix laid out like the paper's Tables 4–5, and a plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from medgraph.classification.config import CELL_TYPES, _targets

__all__ = ["classification_report", "format_confusion", "plot_confusion"]


def _name_mapping(
    class_names: Mapping[int, str] | Sequence[str] | None,
) -> dict[int, str]:
    if class_names is None:
        return dict(CELL_TYPES)
    if isinstance(class_names, Mapping):
        return {int(k): str(v) for k, v in class_names.items()}
    return {i + 1: str(name) for i, name in enumerate(class_names)}


def classification_report(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Mapping[int, str] | Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Confusion matrix with per-class and overall accuracy, laid out like the paper's Tables 4–5.

    Parameters
    ----------
    y_true, y_pred : (N,) int arrays
        True and predicted labels.
    class_names : mapping label → name, or sequence of names, optional
        A mapping fixes the labels and their row/column order (e.g.
        ``{k: CELL_TYPES[k] for k in PAPER_CLASS_ORDER}`` for the paper's alphabetical order); a
        sequence names the labels 1, 2, …; default :data:`CELL_TYPES` (labels 1–5 in order).
        Every label in ``y_true`` and ``y_pred`` must be named.

    Returns
    -------
    confusion : DataFrame
        Rows: the true classes, then ``"Overall Accuracy"``; columns: ``"Recognized <name>"``
        (counts, nullable Int64, empty in the last row), then ``"Accuracy"`` (float in [0, 1]:
        the row's recall, NaN for a class absent from ``y_true``; the overall accuracy in the last
        row).
    numbers : dict
        ``overall_accuracy``, ``balanced_accuracy`` (mean recall over the classes present),
        ``n_samples``, ``n_correct``, ``per_class_accuracy`` (name → recall or NaN),
        ``support`` (name → count), ``matrix`` (the count matrix as nested lists, rows true).
    """
    names = _name_mapping(class_names)
    labels = list(names)
    t = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred {p.size}")
    t_idx = _targets(t, labels)
    p_idx = _targets(p, labels)
    k = len(labels)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (t_idx, p_idx), 1)
    support = matrix.sum(1)
    diag = np.diag(matrix)
    recall = np.full(k, np.nan)
    recall[support > 0] = diag[support > 0] / support[support > 0]
    n = int(matrix.sum())
    overall = float(diag.sum() / n) if n else float("nan")
    row_names = [names[c] for c in labels]
    columns = [f"Recognized {name}" for name in row_names]
    confusion = pd.DataFrame(
        np.vstack([matrix, np.zeros((1, k), dtype=np.int64)]),
        index=[*row_names, "Overall Accuracy"],
        columns=columns,
    ).astype("Int64")
    confusion.iloc[k, :] = pd.NA
    confusion["Accuracy"] = np.append(recall, overall)
    confusion.index.name = "True class"
    numbers: dict[str, Any] = {
        "overall_accuracy": overall,
        "balanced_accuracy": float(np.nanmean(recall)) if (support > 0).any() else float("nan"),
        "n_samples": n,
        "n_correct": int(diag.sum()),
        "per_class_accuracy": dict(zip(row_names, recall.tolist(), strict=True)),
        "support": dict(zip(row_names, support.tolist(), strict=True)),
        "matrix": matrix.tolist(),
    }
    return confusion, numbers


def format_confusion(confusion: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The confusion table as strings, like the paper: counts, ``"92.00%"``, ``"-"`` when empty.

    Parameters
    ----------
    confusion : DataFrame
        From :func:`classification_report`.
    digits : int, default 2
        Decimals of the percentages.

    Returns
    -------
    DataFrame of str
    """
    out = confusion.astype(object).copy()
    for column in confusion.columns:
        values = confusion[column]
        if column == "Accuracy":
            out[column] = ["-" if pd.isna(v) else f"{100 * v:.{digits}f}%" for v in values]
        else:
            out[column] = ["-" if pd.isna(v) else str(int(v)) for v in values]
    return out


def plot_confusion(
    confusion: pd.DataFrame,
    title: str | None = None,
    ax: Any = None,
    cmap: str = "Blues",
) -> Any:
    """Draw a confusion table from :func:`classification_report` as an annotated heat map.

    Cells are coloured by the share of their row (recall-normalised) and show the counts; the
    row labels carry the per-class accuracy, the title the overall accuracy.

    Parameters
    ----------
    confusion : DataFrame
        From :func:`classification_report`.
    title : str, optional
        Prefix of the title (the overall accuracy is appended).
    ax : matplotlib Axes, optional
        Axes to draw on; a new 4.5×4 inch figure otherwise.
    cmap : str, default "Blues"

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.0))
    count_cols = [c for c in confusion.columns if c != "Accuracy"]
    rows = [r for r in confusion.index if r != "Overall Accuracy"]
    counts = confusion.loc[rows, count_cols].to_numpy(dtype=np.float64)
    totals = counts.sum(1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    ax.imshow(share, cmap=cmap, vmin=0.0, vmax=1.0)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            colour = "white" if share[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", color=colour)
    accuracy = confusion["Accuracy"]
    ax.set_xticks(range(len(count_cols)))
    ax.set_xticklabels([c.removeprefix("Recognized ") for c in count_cols], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(
        [f"{r} ({'-' if pd.isna(accuracy[r]) else f'{100 * accuracy[r]:.0f}%'})" for r in rows]
    )
    ax.set_xlabel("Recognized")
    ax.set_ylabel("True (accuracy)")
    overall = accuracy.get("Overall Accuracy", float("nan"))
    suffix = f"overall {100 * overall:.2f}%" if not pd.isna(overall) else ""
    ax.set_title(f"{title}: {suffix}" if title else suffix)
    return ax
