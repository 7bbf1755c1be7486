"""The model registry: every trainable segmentation model by name, with what training needs.

Callers ask this registry (:func:`get_model`, :data:`MODELS`) whether a model needs a superpixel
graph, which loss trains it and how to build it, instead of testing model names as strings.

Each :class:`ModelSpec` carries a ``version``: it is part of the key of every stored run of the
model (:mod:`medgraph.store`). Bump it when a change alters what training the model produces
(its architecture, initialisation, loss, or defaults); the golden-digest test
(``tests/test_golden_digests.py``) fails and names the model to bump when training behaviour
changes without a bump. A bump makes the model's stored runs ``to train`` again; a change that
leaves training bit for bit as it was (a refactor, a new model, a new loss elsewhere) must not
bump anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from torch import nn

__all__ = ["ModelSpec", "MODELS", "get_model", "model_names", "graph_model_names"]


@dataclass(frozen=True)
class ModelSpec:
    """What the workbook knows about one trainable segmentation model.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"smgnn"``.
    family : {"graph", "pixel"}
        ``"graph"``: an :class:`~medgraph.models.SMGNN` variant, fed a batched superpixel graph
        (and the image unless it is a pure GNN); ``"pixel"``: a U-Net-family baseline fed the
        image alone.
    loss : {"dice", "node_cross_entropy"}
        The segmentation term: Dice over pixels (Eq 3.2), or cross-entropy of the node logits
        against the majority labels of the superpixels (the pure GNN, Eqs 4.1-4.2). Graph models
        add λ times the superpixel metric loss (Eqs 2.5-2.7) when λ > 0.
    build : callable(config) -> nn.Module
        Builds the network from a :class:`~medgraph.segmentation.SegmentationConfig` (widths,
        number of classes, baseline size).
    default_lr : float
        Adam's learning rate when the config leaves ``lr`` unset.
    version : int
        Part of the key of the model's stored runs (module notes).
    description : str
        One line for tables and ``--help``.
    gnn, head : str or None
        For graph models: the graph layer (``"gin"``, ``"gcn"``, ``"gat"``) and the pixel head
        (``"cnn"`` or ``"none"``).
    """

    name: str
    family: Literal["graph", "pixel"]
    loss: Literal["dice", "node_cross_entropy"]
    build: Callable[[Any], nn.Module]
    default_lr: float
    version: int
    description: str
    gnn: str | None = None
    head: str | None = None

    @property
    def needs_graph(self) -> bool:
        """Whether the model is fed a superpixel graph."""
        return self.family == "graph"

    @property
    def needs_image(self) -> bool:
        """Whether the model is fed the image (every model but the pure GNN)."""
        return self.head != "none"


def _graph_builder(gnn: str, head: str) -> Callable[[Any], nn.Module]:
    def build(config: Any) -> nn.Module:
        from medgraph.models.smgnn import SMGNN

        return SMGNN(
            hidden=config.hidden,
            embedding_dim=config.embedding_dim,
            num_layers=config.num_layers,
            cnn_hidden=config.cnn_hidden,
            num_classes=config.num_classes,
            gnn=gnn,  # type: ignore[arg-type]
            head=head,  # type: ignore[arg-type]
            gat_heads=config.gat_heads,
            cnn_dilation=config.cnn_dilation,
        )

    return build


def _pixel_builder(name: str) -> Callable[[Any], nn.Module]:
    def build(config: Any) -> nn.Module:
        from medgraph.models import build_baseline

        return build_baseline(
            name,
            num_classes=config.num_classes,
            size=config.baseline_size,
            **(config.baseline_options or {}),
        )

    return build


def _graph(name: str, gnn: str, head: str, description: str) -> ModelSpec:
    loss = "dice" if head == "cnn" else "node_cross_entropy"
    return ModelSpec(
        name, "graph", loss, _graph_builder(gnn, head), 1e-2, 1, description, gnn=gnn, head=head
    )


def _pixel(name: str, description: str) -> ModelSpec:
    return ModelSpec(name, "pixel", "dice", _pixel_builder(name), 1e-3, 1, description)


#: every trainable segmentation model, in the order of the workbook's tables
MODELS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _graph(
                "smgnn", "gin", "cnn", "SMGNN: GIN on the SNIC graph, back-projection, CNN head"
            ),
            _graph("smgnn_gcn", "gcn", "cnn", "SMGNN with GCN layers (§4.4 ablation)"),
            _graph("smgnn_gat", "gat", "cnn", "SMGNN with GAT layers (§4.4 ablation)"),
            _graph("pure_gnn", "gin", "none", "pure GNN: node classifier projected by Q (Fig 10)"),
            _pixel("unet", "U-Net (Ronneberger et al. 2015)"),
            _pixel("attention_unet", "Attention U-Net (Oktay et al. 2018)"),
            _pixel("unet++", "UNet++ (Zhou et al. 2018)"),
            _pixel("swin_unet", "Swin-Unet (Cao et al. 2022)"),
        )
    }
)


def get_model(name: str) -> ModelSpec:
    """The registry entry of ``name``; an unknown name raises ValueError listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {list(MODELS)}") from None


def model_names() -> tuple[str, ...]:
    """Every registered model name."""
    return tuple(MODELS)


def graph_model_names() -> tuple[str, ...]:
    """The names of the models that need a superpixel graph."""
    return tuple(name for name, spec in MODELS.items() if spec.needs_graph)
