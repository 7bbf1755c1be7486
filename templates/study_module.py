"""Notebook NN: one line saying what the study reproduces (paper, section, tables).

Copy to ``lib/medgraph/studies/<name>.py``, register ``STUDY`` in ``medgraph.studies._studies``,
and name ``study: <name>`` in the notebook's runs of ``papermill_runs.yaml``. The study holds what
to train and score for this notebook, nothing generic: generic pieces go to the library's modules
(data, superpixels, graphs, features, models, losses, metrics).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medgraph.options import split_settings
from medgraph.segmentation.config import SegmentationConfig
from medgraph.studies import Study, StudyGroup

__all__ = ["STUDY", "STUDY_NAME", "plan"]

#: the study's name: part of the key of every run it stores, so never rename it once runs exist
STUDY_NAME = "name"


def plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """The runs a notebook with these parameters trains, grouped as its tables are.

    Return ``{}`` for a study that trains nothing through the store.
    """
    hyper, _options = split_settings(params["config"])
    base = SegmentationConfig.from_any(hyper, epochs=int(params["epochs"]))
    return {
        "main": StudyGroup("main", {"smgnn": ("smgnn", {})}, (int(params["seed"]),), base),
    }


STUDY = Study(STUDY_NAME, "what it reproduces", plan, split_seed="seed", groups=("main",))
