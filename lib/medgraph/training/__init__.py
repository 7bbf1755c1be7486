"""Generic training machinery: device choice, seeding, data splits, early stopping and a fit loop.

Nothing here knows about images or graphs. :func:`fit` is the one loop of every trained model of
the workbook (segmentation in :mod:`medgraph.segmentation`, the cell-type classifier in
:mod:`medgraph.classification`); it drives a model through three callables supplied by the
caller:

- ``batches(epoch)`` yields the training mini-batches of one epoch,
- ``train_step(batch)`` returns the scalar loss of one mini-batch (the loop does ``backward`` and
  the optimiser step),
- ``validate()`` returns a dict of validation scores, one of which is monitored; or
  ``validate=None`` for a fixed budget of epochs without validation.

Model selection uses the validation scores only: the weights of the epoch with the best monitored
validation score are kept and restored at the end (without validation, the last epoch's); the
test split never enters the loop.

Modules:

- :mod:`~medgraph.training.preparation` — :func:`select_device`, :func:`seed_everything`,
  :func:`split_indices`;
- :mod:`~medgraph.training.history` — :class:`EarlyStopping`, :class:`History`;
- :mod:`~medgraph.training.loop` — :func:`fit`, :func:`warmup_cosine`;
- ``_resume`` (private) — the resume state of :func:`fit`.
"""

from __future__ import annotations

from medgraph.losses import NonFiniteLossError
from medgraph.training._resume import RandomStream as RandomStream
from medgraph.training.history import EarlyStopping, History
from medgraph.training.loop import Schedule as Schedule
from medgraph.training.loop import fit, warmup_cosine
from medgraph.training.preparation import (
    seed_everything,
    select_device,
    split_indices,
    training_provenance,
)

__all__ = [
    "select_device",
    "seed_everything",
    "split_indices",
    "training_provenance",
    "EarlyStopping",
    "History",
    "warmup_cosine",
    "fit",
    "NonFiniteLossError",
]
