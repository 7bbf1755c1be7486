"""Segmentation studies: hyperparameters, preparation, training, prediction, and the store recipe.

The experiment of the SMGNN paper (Jiang et al., MBE 2024, §3, §4.1-4.4, Algorithm 1), as small
modules over :mod:`medgraph.data`, :mod:`medgraph.graphs`, :mod:`medgraph.models`,
:mod:`medgraph.losses`, :mod:`medgraph.metrics` and the loop of :mod:`medgraph.training`:

- :mod:`~medgraph.segmentation.config`: :class:`SegmentationConfig`, the hyperparameters of a
  run (how it is run lives in :class:`medgraph.options.RunOptions`);
- :mod:`~medgraph.segmentation.preparation`: padding, superpixel graphs, normalisation, batches;
- :mod:`~medgraph.segmentation.training`: :func:`train_segmentation` and :class:`SegmentationRun`;
- :mod:`~medgraph.segmentation.prediction`: :func:`predict` of new images;
- :mod:`~medgraph.segmentation.recipe`: runs in the store (:mod:`medgraph.store`), comparisons
  of models over seeds, provenance.

Scores (Dice, Hausdorff, … per image and class, and their means) are in :mod:`medgraph.metrics`.
"""

from medgraph.segmentation.config import IGNORE_INDEX, NODE_IGNORE, SegmentationConfig
from medgraph.segmentation.prediction import predict, predict_prepared
from medgraph.segmentation.preparation import (
    PreparedImages,
    Preprocessing,
    SegmentationBatch,
    common_shape,
    fit_preprocessing,
    make_batch,
    pad_to_shape,
    prepare_images,
)
from medgraph.segmentation.recipe import (
    SEGMENTATION,
    SegmentationRecipe,
    SegmentationRequest,
    WeightsNotKept,
    compare_segmentation_models,
    data_fingerprint,
    load_segmentation_data,
    predict_dataset,
    run_provenance,
    slim_payload,
    train_or_load,
)
from medgraph.segmentation.training import (
    SegmentationRun,
    build_segmentation_model,
    check_splits,
    train_segmentation,
    training_provenance,
)

__all__ = [
    "IGNORE_INDEX",
    "NODE_IGNORE",
    "SegmentationConfig",
    "Preprocessing",
    "PreparedImages",
    "SegmentationBatch",
    "SegmentationRun",
    "SegmentationRecipe",
    "SegmentationRequest",
    "SEGMENTATION",
    "WeightsNotKept",
    "common_shape",
    "pad_to_shape",
    "prepare_images",
    "fit_preprocessing",
    "make_batch",
    "build_segmentation_model",
    "check_splits",
    "train_segmentation",
    "training_provenance",
    "predict",
    "predict_prepared",
    "predict_dataset",
    "data_fingerprint",
    "slim_payload",
    "train_or_load",
    "load_segmentation_data",
    "compare_segmentation_models",
    "run_provenance",
]
