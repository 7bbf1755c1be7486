"""Numbers published by the studies the workbook reproduces, labelled as theirs.

These are transcriptions of the papers' tables, kept in one place so that reports can put them
*beside* our measurements (never in place of them). Each table records its source. ``SMGNN_*``
names hold the paper's tables under its own row names; ``PAPER_*`` names hold the paper's facts
under our names (model names of :mod:`medgraph.models`, cell-type codes of
:mod:`medgraph.classification`).

SMGNN: Y. Jiang, Y. Shen, Y. Wang, Q. Ding, "Automatic recognition of white blood cell images with
memory efficient superpixel metric GNN: SMGNN", Mathematical Biosciences and Engineering, 2024.

Graph cuts: A. Fellah, A. A. Mokadem, M. Mekki, Y. L. Benyamina, "Unsupervised Image Segmentation
with GNNs" (course project page; DeepCut's NCut and CC losses and UnSeGGNet's DMoN loss with GCN,
GAT and ARMA layers, on ISIC 2016 and EMDS-6). Its scores come from reference code that picks the
foreground cluster with the ground truth and reports the best of ten evaluated epochs on the
scored images.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "SMGNN_SOURCE",
    "smgnn_segmentation_table",
    "smgnn_time_table",
    "smgnn_classification_table",
    "SMGNN_CELL_TYPE_ACCURACY",
    "SMGNN_CLASSIFICATION_ACCURACY",
    "PAPER_CLASS_ORDER",
    "PAPER_PARAMS_M",
    "PAPER_ROW",
    "GRAPH_CUT_SOURCE",
    "graph_cut_seed_table",
    "LEUKEMIA_SOURCE",
    "leukemia_seed_table",
    "leukemia_seed_confusion",
]

SMGNN_SOURCE = "Jiang et al., MBE 2024 (SMGNN)"

_COLUMNS = ["model", "parameters_M", "dice", "hausdorff", "ppv", "accuracy", "sensitivity"]

# Table 1 (dataset-1) and Table 2 (dataset-2). SMGNN's parameter count is printed as 7e-3 M.
_TABLE = {
    "wbc1": [
        ("U-Net", 5.43, 0.9405, 4.214, 0.9468, 0.9913, 0.9325),
        ("RU-Net", 31.03, 0.9452, 4.137, 0.9528, 0.9915, 0.9377),
        ("Att-U-Net", 34.88, 0.9410, 4.287, 0.9413, 0.9908, 0.9301),
        ("Swin-U-Net", 73.46, 0.9501, 4.056, 0.9578, 0.9918, 0.9385),
        ("MIF-Net", 2.67, 0.9523, 4.035, 0.9556, 0.9911, 0.9373),
        ("VGU-Net", 4.99, 0.9604, 3.987, 0.9643, 0.9923, 0.9414),
        ("SMGNN", 7e-3, 0.9572, 4.017, 0.9545, 0.9914, 0.9401),
    ],
    "wbc2": [
        ("U-Net", 5.43, 0.9420, 4.5018, 0.9419, 0.9910, 0.9204),
        ("RU-Net", 31.03, 0.9462, 4.8409, 0.9303, 0.9876, 0.9116),
        ("Att-U-Net", 34.88, 0.9482, 4.7425, 0.9333, 0.9914, 0.9307),
        ("Swin-U-Net", 73.46, 0.9503, 4.7886, 0.9438, 0.9919, 0.9232),
        ("MIF-Net", 2.67, 0.9517, 4.224, 0.9428, 0.9909, 0.9311),
        ("VGU-Net", 4.99, 0.9520, 4.209, 0.9493, 0.9913, 0.9378),
        ("SMGNN", 7e-3, 0.9495, 4.4531, 0.9431, 0.9903, 0.9373),
    ],
}

# Table 3: inference time (seconds) for eight dataset-2 images, NVIDIA A100, SNIC included for SMGNN.
_TIME = [
    ("U-Net", 0.1094),
    ("RU-Net", 0.1145),
    ("Att-U-Net", 0.2681),
    ("Swin-U-Net", 0.7794),
    ("MIF-Net", 0.0986),
    ("VGU-Net", 0.1756),
    ("SMGNN", 0.8173),
]

# Table 6: segmentation-based cell-type classification on dataset-2 (Dice of the segmentation
# model and classification accuracy CA of the ResNet using its segmentations).
_CLASSIFICATION = [
    ("U-Net", 5.43, 0.9420, 0.9344),
    ("RU-Net", 31.03, 0.9462, 0.9672),
    ("Att-U-Net", 34.88, 0.9482, 0.9508),
    ("Swin-U-Net", 73.46, 0.9503, 0.9508),
    ("MIF-Net", 2.67, 0.9517, 0.9508),
    ("VGU-Net", 4.99, 0.9520, 0.9672),
    ("SMGNN", 7e-3, 0.9495, 0.9672),
]

#: Tables 4 and 5: overall cell-type accuracy on dataset-2 with and without the segmentation.
SMGNN_CELL_TYPE_ACCURACY = {"with SMGNN segmentation": 0.9672, "image only": 0.7213}

#: Table 5 ("image only": the classifier without a segmentation) and Table 6's CA column (one row
#: per segmentation model; the SMGNN row is Table 4's overall accuracy): overall cell-type accuracy
#: on dataset-2 by the segmentation the classifier was given, under the paper's row names.
SMGNN_CLASSIFICATION_ACCURACY: dict[str, float] = {
    "image only": SMGNN_CELL_TYPE_ACCURACY["image only"],
    **{model: accuracy for model, _, _, accuracy in _CLASSIFICATION},
}

#: Row/column order of Tables 4–5 (alphabetical: basophil, eosinophil, lymphocyte, monocyte,
#: neutrophil), as the cell-type codes of :data:`medgraph.classification.CELL_TYPES`:
#: ``{k: CELL_TYPES[k] for k in PAPER_CLASS_ORDER}`` gives that layout.
PAPER_CLASS_ORDER: tuple[int, ...] = (5, 4, 2, 3, 1)

#: how our model names map to the paper's row names
PAPER_ROW = {
    "smgnn": "SMGNN",
    "unet": "U-Net",
    "attention_unet": "Att-U-Net",
    "swin_unet": "Swin-U-Net",
}

_PARAMETERS_M = {model: parameters for model, parameters, *_ in _TABLE["wbc1"]}
#: Table 1 (repeated in Tables 2 and 6): parameter counts in millions, by our model names (SMGNN's
#: printed as 7e-3 M); None for UNet++, which the paper cites but does not tabulate.
PAPER_PARAMS_M: dict[str, float | None] = {
    name: _PARAMETERS_M.get(PAPER_ROW.get(name, ""))
    for name in ("smgnn", "unet", "attention_unet", "unet++", "swin_unet")
}


def smgnn_segmentation_table(dataset: str) -> pd.DataFrame:
    """The SMGNN paper's Table 1 (``"wbc1"``) or Table 2 (``"wbc2"``), columns prefixed ``paper_``.

    Returns
    -------
    DataFrame with ``model`` and ``paper_parameters_M, paper_dice, paper_hausdorff, paper_ppv,
    paper_accuracy, paper_sensitivity``.
    """
    if dataset not in _TABLE:
        raise KeyError(
            f"the SMGNN paper has segmentation tables for {sorted(_TABLE)}, not {dataset!r}"
        )
    frame = pd.DataFrame(_TABLE[dataset], columns=_COLUMNS)
    return frame.rename(columns={c: f"paper_{c}" for c in _COLUMNS[1:]})


def smgnn_time_table() -> pd.DataFrame:
    """The SMGNN paper's Table 3: seconds per eight dataset-2 images on an A100."""
    return pd.DataFrame(_TIME, columns=["model", "paper_seconds_per_8_images"])


def smgnn_classification_table() -> pd.DataFrame:
    """The SMGNN paper's Table 6: Dice and cell-type classification accuracy on dataset-2."""
    return pd.DataFrame(
        _CLASSIFICATION,
        columns=["model", "paper_parameters_M", "paper_dice", "paper_classification_accuracy"],
    )


GRAPH_CUT_SOURCE = "Fellah et al., Unsupervised Image Segmentation with GNNs (seed study)"

# The seed's two result tables (ISIC 2016 training set, 900 images; EMDS-6, 840 images): method,
# GNN layer, IoU, Dice, best epoch (of 10, 20, ..., 100). CC with GCN is "GCN (NO Normalization)".
_GRAPH_CUT = {
    "isic2016": [
        ("ncut", "gcn", 0.622, 0.708, 90),
        ("ncut", "gat", 0.388, 0.409, 100),
        ("ncut", "arma", 0.623, 0.714, 30),
        ("cc", "gcn", 0.434, 0.539, 20),
        ("cc", "gat", 0.158, 0.219, 80),
        ("dmon", "gcn", 0.363, 0.483, 100),
        ("dmon", "gat", 0.378, 0.498, 90),
        ("dmon", "arma", 0.500, 0.606, 80),
    ],
    "emds6": [
        ("ncut", "gcn", 0.642, 0.723, 50),
        ("ncut", "gat", 0.519, 0.599, 100),
        ("ncut", "arma", 0.649, 0.731, 30),
        ("cc", "gcn", 0.543, 0.636, 40),
        ("cc", "gat", 0.157, 0.222, 100),
        ("dmon", "gcn", 0.269, 0.483, 70),
        ("dmon", "gat", 0.273, 0.498, 90),
        ("dmon", "arma", 0.453, 0.558, 80),
    ],
}


def graph_cut_seed_table(dataset: str) -> pd.DataFrame:
    """The seed study's results on ``"isic2016"`` or ``"emds6"`` (its numbers, not ours).

    Returns
    -------
    DataFrame with ``loss``, ``layer``, ``paper_iou``, ``paper_dice``, ``paper_best_epoch``.
    """
    if dataset not in _GRAPH_CUT:
        raise KeyError(f"the seed reports {sorted(_GRAPH_CUT)}, not {dataset!r}")
    return pd.DataFrame(
        _GRAPH_CUT[dataset],
        columns=["loss", "layer", "paper_iou", "paper_dice", "paper_best_epoch"],
    )


LEUKEMIA_SOURCE = "Leukemia Classifier Using Graph Neural Networks (seed study), Table 1 and Fig 2"

# The seed's Table 1 on C-NMC 2019, in %: accuracy, precision, recall, F1, ROC-AUC (its text gives
# the AUCs as 0.78, 0.80, 0.83). The protocol behind it is not stated: the seed describes both a
# 3-fold cross-validation over the official folds and a stratified 80/20 split of the graph.
_LEUKEMIA = [
    ("SVM", 77.4, 76.8, 74.2, 75.5, 78.0),
    ("CNN", 82.9, 83.5, 80.1, 81.7, 80.0),
    ("CNN + GCN", 85.8, 86.1, 82.5, 84.2, 83.0),
]
# Its Fig 2, the confusion matrix of CNN + GCN over the 10,661 training cells (rows: true HEM,
# true ALL; columns: predicted HEM, predicted ALL).
_LEUKEMIA_CONFUSION = ((2423, 966), (1274, 5998))


def leukemia_seed_table() -> pd.DataFrame:
    """The seed study's Table 1 (its numbers, not ours), as fractions in [0, 1].

    Returns
    -------
    DataFrame with ``model`` and ``paper_accuracy``, ``paper_precision``, ``paper_recall``,
    ``paper_f1``, ``paper_roc_auc``.
    """
    cols = ["accuracy", "precision", "recall", "f1", "roc_auc"]
    rows = [(m, *(v / 100.0 for v in vals)) for m, *vals in _LEUKEMIA]
    return pd.DataFrame(rows, columns=["model", *(f"paper_{c}" for c in cols)])


def leukemia_seed_confusion() -> np.ndarray:
    """The seed's Fig 2 confusion matrix of CNN + GCN, (2, 2) int: rows true HEM/ALL, columns
    predicted HEM/ALL (its numbers, not ours)."""
    return np.asarray(_LEUKEMIA_CONFUSION, dtype=np.int64)
