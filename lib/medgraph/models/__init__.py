"""Torch modules of the workbook.

- :class:`SMGNN`: the superpixel metric graph neural network (Jiang et al., MBE 2024).
- U-Net family baselines (:mod:`medgraph.models.unets`): :class:`UNet`, :class:`AttentionUNet`,
  :class:`UNetPlusPlus`, :class:`SwinUNet`, built by name with :func:`build_baseline`.
- :func:`count_parameters`: number of (trainable) parameters of a module.
"""

from __future__ import annotations

from medgraph.models.baselines import build_baseline
from medgraph.models.common import count_parameters
from medgraph.models.smgnn import SMGNN
from medgraph.models.swin_unet import SwinUNet
from medgraph.models.unet import AttentionUNet, UNet
from medgraph.models.unetpp import UNetPlusPlus

__all__ = [
    "SMGNN",
    "UNet",
    "AttentionUNet",
    "UNetPlusPlus",
    "SwinUNet",
    "build_baseline",
    "count_parameters",
]
