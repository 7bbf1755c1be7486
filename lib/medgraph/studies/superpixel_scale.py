"""Notebook 01: SNIC against SLIC over superpixel scales (SMGNN paper §2, §4.2, Fig 6).

The study trains nothing: it measures over-segmentations (:mod:`medgraph.superpixels.study`), so
its plan is empty and the pieces command has nothing to train for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medgraph.studies import Study, StudyGroup

__all__ = ["STUDY", "STUDY_NAME", "plan"]

#: the study's name
STUDY_NAME = "superpixel_scale"


def plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """No training runs."""
    return {}


STUDY = Study(
    STUDY_NAME, "SNIC vs SLIC: reconstruction IoU, compression and speed over scales", plan
)
