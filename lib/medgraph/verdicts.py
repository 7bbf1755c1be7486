"""Verdicts on the papers' claims: *reproduced*, *not reproduced* or *not comparable*, by a rule.

Every "ours beside the paper's" row of a report (:meth:`medgraph.reporting.Report.compare`)
carries a verdict and the rule that gave it, so that a reviewer can judge each headline claim at a
glance. The rules here are the ones notebooks 01–03 use; notebooks 04–06 state theirs in their
study modules (a bootstrap interval over images, mean ± max(2 SE, 0.01) over folds).

* :func:`within_tolerance`: a published number against our mean over seeds, reproduced when
  ``|ours − paper| ≤ max(2·SD, floor)`` (SD the sample standard deviation over seeds; the floor
  covers the rounding of the published number and single-seed rows).
* :func:`within_interval`: reproduced when the published number lies in our interval (a
  bootstrap over test images, or a binomial interval of an accuracy on n test images).
* :func:`claim`: a qualitative claim (a ranking, "faster than", "separates the classes"),
  reproduced when the stated condition holds on our numbers.
* :func:`wilson_interval`: the 95 % Wilson score interval of a proportion k / n.

A run on data other than the paper's (the seeded phantoms) is never comparable:
:data:`PHANTOM` is the verdict the report writes for every row of such a run.
"""

from __future__ import annotations

import math

__all__ = [
    "NOT_COMPARABLE",
    "NO_NUMBER",
    "PHANTOM",
    "REPRODUCED",
    "claim",
    "wilson_interval",
    "within_interval",
    "within_tolerance",
]

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_COMPARABLE = "not comparable"
NO_NUMBER = "no published number"
PHANTOM = "phantom smoke run, not comparable"


def _direction(ours: float, paper: float) -> str:
    return f"{NOT_REPRODUCED} (ours {'higher' if ours > paper else 'lower'})"


def within_tolerance(
    ours: float, sd: float | None, paper: float | None, floor: float
) -> tuple[str, str]:
    """Our mean over seeds against a published number.

    Parameters
    ----------
    ours : our mean over seeds
    sd : sample standard deviation over seeds (ddof = 1); ``None`` or NaN for one seed
    paper : the published number (``None``: the paper gives none)
    floor : the smallest tolerance, in the quantity's units

    Returns
    -------
    (verdict, rule) : ``"reproduced"``, ``"not reproduced (ours higher|lower)"`` or
        ``"no published number"``, and the rule with its tolerance, e.g.
        ``"|ours − paper| ≤ max(2 SD, 0.005) = 0.0050"``.
    """
    spread = 0.0 if sd is None or not math.isfinite(sd) else 2.0 * float(sd)
    tol = max(spread, float(floor))
    rule = f"|ours − paper| ≤ max(2 SD over seeds, {floor:g}) = {tol:.4f}"
    if paper is None or not math.isfinite(float(paper)):
        return NO_NUMBER, rule
    if not math.isfinite(float(ours)):
        return f"{NOT_REPRODUCED} (ours undefined)", rule
    if abs(float(ours) - float(paper)) <= tol:
        return REPRODUCED, rule
    return _direction(float(ours), float(paper)), rule


def within_interval(
    ours: float, lo: float, hi: float, paper: float | None, interval: str
) -> tuple[str, str]:
    """Reproduced when the published number lies in our interval ``[lo, hi]``.

    ``interval`` names it for the rule, e.g. ``"95 % Wilson interval over 67 test images"``.
    """
    rule = f"paper's value inside our {interval} [{lo:.4f}, {hi:.4f}]"
    if paper is None or not math.isfinite(float(paper)):
        return NO_NUMBER, rule
    if lo <= float(paper) <= hi:
        return REPRODUCED, rule
    return _direction(float(ours), float(paper)), rule


def claim(holds: bool, rule: str, why_not: str = "") -> tuple[str, str]:
    """A qualitative claim judged by a stated condition on our numbers.

    Parameters
    ----------
    holds : whether the condition holds
    rule : the condition, in words ("SMGNN's mean Dice is the highest of the five models")
    why_not : what we found instead, appended to the verdict when the claim fails
    """
    if holds:
        return REPRODUCED, rule
    return (f"{NOT_REPRODUCED} ({why_not})" if why_not else NOT_REPRODUCED), rule


def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` (95 % for the default ``z``).

    Raises
    ------
    ValueError : ``n < 1`` or ``k`` outside ``[0, n]``
    """
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"a proportion needs 0 <= k <= n and n >= 1, got k={k}, n={n}")
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
