"""Segmentation-based white-blood-cell type classification (SMGNN paper §4.6, Algorithm 1 step 3).

After an image is segmented into background, cytoplasm and nucleus, a lightweight ResNet
(:class:`medgraph.models.resnet.LightResNet`) classifies the cell type — 1 neutrophil,
2 lymphocyte, 3 monocyte, 4 eosinophil, 5 basophil — from the image together with the one-hot
segmentation (6 input channels); the baseline is the same network on the image alone (3 channels).
The paper trains on about a third of each class of dataset-2 and tests on the rest, reporting
96.72% overall accuracy with SMGNN segmentations (Table 4) against 72.13% on the image alone
(Table 5), and compares segmentations of several models in Table 6 (the paper's numbers are in
:mod:`medgraph.published`: :data:`~medgraph.published.SMGNN_CLASSIFICATION_ACCURACY`; the
row order of its tables, :data:`PAPER_CLASS_ORDER`, is re-exported here).

The pieces, used in this order by :func:`run_cell_type_experiment`:

- :func:`stratified_fraction_split` — a seeded per-class split (no validation subset: training
  runs for a fixed number of epochs, so nothing is selected on held-out data, least of all on
  the test set);
- :func:`classifier_inputs` — normalised RGB plus, optionally, one-hot segmentation channels, at
  a fixed square size; with ``region="cell"`` the image is first reduced to the segmented cell
  (:func:`cell_region`: the bounding square of the cytoplasm and nucleus, every other pixel set
  to black), the paper's "extraction on salient cell regions" (§4.6);
- :func:`train_classifier` — :func:`medgraph.training.fit` without validation: Adam with a
  cosine-decayed learning rate, label-safe dihedral augmentation (flips and 90° rotations,
  :func:`medgraph.transforms.augment_dihedral`), class-balanced cross-entropy weights;
  :func:`predict_classes` / :func:`predict_proba`;
- :func:`cell_features` / :func:`cross_validate_cells` — the other route: morphology and colour
  features of the segmented nucleus and cytoplasm with a small classifier, scored by repeated
  stratified cross-validation with the classifier chosen inside each training fold
  (:mod:`~medgraph.classification.morphology`);
- :func:`choose_classifier_on_validation` — the classifier's settings (input region, class
  weighting, augmentation: :data:`CLASSIFIER_CANDIDATES`) chosen by cross-validation inside the
  training images, so no test image takes part in the choice;
- :func:`classification_report` — the confusion matrix laid out like the paper's Tables 4–5 and
  the numbers behind it; :func:`format_confusion` prints it with percentages;
  :func:`plot_confusion` draws it.

Modules: :mod:`~medgraph.classification.config` (labels, :class:`ClassifierConfig`),
:mod:`~medgraph.classification.inputs` (split and input tensors),
:mod:`~medgraph.classification.classifier` (training and prediction),
:mod:`~medgraph.classification.report` (confusion tables and plot),
:mod:`~medgraph.classification.experiment` (:func:`run_cell_type_experiment`).
"""

from __future__ import annotations

from medgraph.classification.classifier import (
    class_weights,
    predict_classes,
    predict_proba,
    train_classifier,
)
from medgraph.classification.config import CELL_TYPES, ClassifierConfig
from medgraph.classification.experiment import (
    CLASSIFIER_CANDIDATES,
    choose_classifier_on_validation,
    run_cell_type_experiment,
)
from medgraph.classification.inputs import (
    cell_region,
    classifier_inputs,
    stratified_fraction_split,
)
from medgraph.classification.morphology import (
    FEATURE_NAMES,
    CellCV,
    cell_feature_table,
    cell_features,
    classes_with_at_least,
    cross_validate_cells,
)
from medgraph.classification.report import (
    classification_report,
    format_confusion,
    plot_confusion,
)
from medgraph.published import PAPER_CLASS_ORDER
from medgraph.transforms import augment_dihedral

__all__ = [
    "CELL_TYPES",
    "PAPER_CLASS_ORDER",
    "ClassifierConfig",
    "stratified_fraction_split",
    "cell_region",
    "classifier_inputs",
    "augment_dihedral",
    "class_weights",
    "train_classifier",
    "predict_proba",
    "predict_classes",
    "classification_report",
    "format_confusion",
    "plot_confusion",
    "run_cell_type_experiment",
    "CLASSIFIER_CANDIDATES",
    "choose_classifier_on_validation",
    "FEATURE_NAMES",
    "CellCV",
    "cell_features",
    "cell_feature_table",
    "classes_with_at_least",
    "cross_validate_cells",
]
