"""SMGNN: superpixel metric graph neural network (Jiang et al., MBE 2024, §2.3, §3, Fig 5).

Three GIN layers (Eq 2.4) embed the superpixel graph; the node embeddings H are projected back
to the pixels through the association matrix (``h = QH``, a gather over the label map),
concatenated with the image and smoothed by a small CNN into class logits (Algorithm 1). The
node embeddings are also returned, for the superpixel metric loss (Eqs 2.5–2.7).

Ablations of §4.4: ``gnn="gcn"`` or ``"gat"`` swaps the graph layers (same widths);
``head="none"`` is the pure-GNN model of Fig 10, a linear node classifier whose logits are
projected through Q.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GATConv, GCNConv, GINConv

from medgraph.graphs import SuperpixelBatch
from medgraph.models.lean import conv_bn_relu
from medgraph.superpixels.bridge import to_pixels

__all__ = ["SMGNN"]


def _gin_mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """The MLP^(ℓ) of Eq 2.4: Linear → ReLU → Linear."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class SMGNN(nn.Module):
    """Superpixel GNN with a pixel-space CNN head.

    Parameters
    ----------
    in_features : int, default 5
        Node feature size (mean RGB + mean position, :func:`medgraph.graphs.superpixel_node_features`).
    hidden : int, default 16
        Width of the hidden graph layers (and of the hidden layer of each GIN MLP).
    embedding_dim : int, default 16
        d, the size of the node embeddings H returned for the metric loss.
    num_layers : int, default 3
        Number of graph layers (the paper uses three).
    cnn_hidden : int, default 16
        Channels of the CNN head.
    num_classes : int, default 3
        C (background, cytoplasm, nucleus).
    image_channels : int, default 3
        Channels of the image concatenated to the back-projected embeddings.
    gnn : {"gin", "gcn", "gat"}, default "gin"
        Graph layer: PyG ``GINConv`` with learnable ε (the w of Eq 2.4), ``GCNConv`` or
        ``GATConv`` (``gat_heads`` heads averaged, so widths stay the same).
    head : {"cnn", "none"}, default "cnn"
        ``"cnn"``: three 3×3 convolutions (BatchNorm + ReLU after the first two; dilations
        ``cnn_dilation``) on ``[QH, X]``. ``"none"``: a linear node classifier; its logits are
        gathered to the pixels.
    gat_heads : int, default 1
    cnn_dilation : int or (int, int, int), default 1
        Dilation of the head's three 3×3 convolutions (padding equal to the dilation, so the
        size is kept). The paper specifies only a "lightweight CNN"; dilations (1, 2, 4) widen
        the head's receptive field from 7 × 7 to 15 × 15 pixels (radius = sum of the dilations)
        with the same parameters.
    memory_efficient : bool, default True
        In training mode with gradients on, run the CNN head's two Conv–BatchNorm–ReLU blocks
        through :func:`medgraph.models.lean.conv_bn_relu`, which rebuilds ``[QH, X]`` and the
        convolution outputs in the backward pass instead of saving them: same outputs and
        gradients, about 40 % fewer activation bytes per training step. Evaluation is unchanged.
    device : str or torch.device, optional
        Where the parameters are created.

    Notes
    -----
    A ReLU follows every graph layer except the last, so the embeddings H are the raw output of
    the last layer. With the defaults the model has 6,998 trainable parameters (the paper
    reports about 7·10³).
    """

    def __init__(
        self,
        in_features: int = 5,
        hidden: int = 16,
        embedding_dim: int = 16,
        num_layers: int = 3,
        cnn_hidden: int = 16,
        num_classes: int = 3,
        image_channels: int = 3,
        gnn: Literal["gin", "gcn", "gat"] = "gin",
        head: Literal["cnn", "none"] = "cnn",
        gat_heads: int = 1,
        cnn_dilation: int | Sequence[int] = 1,
        memory_efficient: bool = True,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if gnn not in ("gin", "gcn", "gat"):
            raise ValueError(f"gnn must be 'gin', 'gcn' or 'gat', got {gnn!r}")
        if head not in ("cnn", "none"):
            raise ValueError(f"head must be 'cnn' or 'none', got {head!r}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be ≥ 1, got {num_layers}")
        dilation = (
            tuple(cnn_dilation) if isinstance(cnn_dilation, Sequence) else (cnn_dilation,) * 3
        )
        if len(dilation) != 3 or any(int(d) != d or d < 1 for d in dilation):
            raise ValueError(
                f"cnn_dilation must be one or three integers ≥ 1, got {cnn_dilation!r}"
            )
        self.cnn_dilation = tuple(int(d) for d in dilation)
        self.gnn_type = gnn
        self.head_type = head
        self.num_classes = num_classes
        self.image_channels = image_channels
        self.embedding_dim = embedding_dim
        self.memory_efficient = memory_efficient

        dims = [in_features] + [hidden] * (num_layers - 1) + [embedding_dim]
        layers: list[nn.Module] = []
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            if gnn == "gin":
                layers.append(GINConv(_gin_mlp(d_in, hidden, d_out), eps=0.0, train_eps=True))
            elif gnn == "gcn":
                layers.append(GCNConv(d_in, d_out))
            else:
                layers.append(GATConv(d_in, d_out, heads=gat_heads, concat=False))
        self.graph_layers = nn.ModuleList(layers)

        if head == "cnn":
            c_in = embedding_dim + image_channels
            d1, d2, d3 = self.cnn_dilation
            self.head: nn.Module = nn.Sequential(
                nn.Conv2d(c_in, cnn_hidden, 3, padding=d1, dilation=d1, bias=False),
                nn.BatchNorm2d(cnn_hidden),
                nn.ReLU(inplace=True),  # on BatchNorm's output, which its backward does not need
                nn.Conv2d(cnn_hidden, cnn_hidden, 3, padding=d2, dilation=d2, bias=False),
                nn.BatchNorm2d(cnn_hidden),
                nn.ReLU(inplace=True),
                nn.Conv2d(cnn_hidden, num_classes, 3, padding=d3, dilation=d3),
            )
        else:
            self.head = nn.Linear(embedding_dim, num_classes)
        if device is not None:
            self.to(device)

    def embed(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Node embeddings H (Eq 2.4 applied ``num_layers`` times).

        Parameters
        ----------
        x : (K, in_features) float tensor
        edge_index : (2, E) int64 tensor

        Returns
        -------
        (K, embedding_dim) tensor.
        """
        h = x
        for i, layer in enumerate(self.graph_layers):
            h = layer(h, edge_index)
            if i < len(self.graph_layers) - 1:
                h = torch.relu(h)
        return h

    def node_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Class logits of every node for the pure-GNN model (``head="none"``, Eq 4.1 input).

        Parameters
        ----------
        embeddings : (K, embedding_dim) tensor

        Returns
        -------
        (K, num_classes) tensor.
        """
        if self.head_type != "none":
            raise RuntimeError("node_logits is only defined for head='none'")
        return self.head(embeddings)

    def forward(
        self,
        images: torch.Tensor | None,
        graph: Batch | SuperpixelBatch,
        label_maps: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Segment a batch of images.

        Parameters
        ----------
        images : (B, image_channels, H, W) float tensor, or None for ``head="none"``
            The images (channels first, values as given to the graph builder, e.g. [0, 1]).
        graph : torch_geometric.data.Batch or SuperpixelBatch
            ``x`` (K, in_features) and ``edge_index`` (2, E) of all B images.
        label_maps : (B, H, W) int64 tensor, optional
            Global node index of every pixel (Q); taken from ``graph`` when it is a
            :class:`~medgraph.graphs.SuperpixelBatch`.

        Returns
        -------
        logits : (B, num_classes, H, W) tensor
            Pixel class logits (apply a softmax for the Dice loss).
        embeddings : (K, embedding_dim) tensor
            Node embeddings H, for the superpixel metric loss.
        """
        if isinstance(graph, SuperpixelBatch):
            if label_maps is None:
                label_maps = graph.label_maps
            graph = graph.graph
        if label_maps is None:
            raise ValueError("label_maps (B, H, W) are needed to project nodes to pixels")
        if label_maps.ndim != 3:
            raise ValueError(f"label_maps must be (B, H, W), got {tuple(label_maps.shape)}")
        embeddings = self.embed(graph.x, graph.edge_index)
        if self.head_type == "none":
            pixel = to_pixels(self.head(embeddings), label_maps)  # (B, H, W, C)
            return pixel.permute(0, 3, 1, 2), embeddings
        if images is None:
            raise ValueError("the CNN head needs the images")
        expected = (label_maps.shape[0], self.image_channels, *label_maps.shape[1:])
        if tuple(images.shape) != expected:
            raise ValueError(
                f"images must be (B, {self.image_channels}, H, W) matching label maps "
                f"{tuple(label_maps.shape)}, got {tuple(images.shape)}"
            )
        if self.memory_efficient and self.training and torch.is_grad_enabled():
            if label_maps.numel() and int(label_maps.max()) >= embeddings.shape[0]:
                raise ValueError(
                    f"label maps reference node {int(label_maps.max())} but the graph has "
                    f"{embeddings.shape[0]} nodes"
                )
            conv1, bn1, _, conv2, bn2, _, conv3 = self.head
            hidden = conv_bn_relu(conv1, bn1, images, embeddings, label_maps)
            hidden = conv_bn_relu(conv2, bn2, hidden)
            return conv3(hidden), embeddings
        h = to_pixels(embeddings, label_maps).permute(0, 3, 1, 2)  # h = QH, (B, d, H, W)
        # h is channels-last in memory (the gather's layout); with channels-last images as well
        # the concatenation stays channels-last, which CPU convolutions run about twice as fast
        features = torch.cat([h, images.to(h.dtype)], dim=1)
        return self.head(features), embeddings
