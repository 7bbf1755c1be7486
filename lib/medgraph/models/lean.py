"""Memory-lean training path of SMGNN's pixel-space CNN head (same function, fewer saved bytes).

SMGNN's head runs at full image resolution, so in a training step it, not the graph network,
holds most of the activations autograd saves for backward. Two of those tensors are redundant:

- the head's input ``[QH, X]`` (Algorithm 1): ``QH`` is a gather of the node embeddings H
  (K × d, tiny) through the label map Q, both of which are kept anyway, so the
  (B, d + 3, H, W) concatenation can be rebuilt in the backward pass;
- the convolution output that BatchNorm keeps: it is one convolution of the block's input,
  which the block keeps anyway.

:func:`conv_bn_relu` fuses ``[gather + concat] → Conv2d → BatchNorm2d (batch statistics) →
ReLU`` into one autograd function that saves only the block's input parts, its ReLU output
(which the next convolution saves anyway) and the per-channel batch mean and inverse standard
deviation, and recomputes the rest in backward: one extra convolution per block, traded for two
full-resolution feature maps. Outputs, gradients and BatchNorm running statistics equal those of
the plain modules up to floating-point rounding (checked by the tests).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["conv_bn_relu"]


def _assemble(
    images: torch.Tensor, node_h: torch.Tensor | None, label_maps: torch.Tensor | None
) -> torch.Tensor:
    """``[QH, X]`` as (B, d + c, H, W), or ``X`` alone when ``node_h`` is None."""
    if node_h is None:
        return images
    h = node_h[label_maps].permute(0, 3, 1, 2)  # QH, (B, d, H, W)
    return torch.cat([h, images.to(h.dtype)], dim=1)


class _ConvBNReLU(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        images: torch.Tensor,
        node_h: torch.Tensor | None,
        label_maps: torch.Tensor | None,
        weight: torch.Tensor,
        gamma: torch.Tensor | None,
        beta: torch.Tensor | None,
        running_mean: torch.Tensor | None,
        running_var: torch.Tensor | None,
        momentum: float,
        eps: float,
        conv_args: tuple[list[int], list[int], list[int], int],
    ) -> torch.Tensor:
        stride, padding, dilation, groups = conv_args
        z = _assemble(images, node_h, label_maps)
        y = torch.nn.functional.conv2d(z, weight, None, stride, padding, dilation, groups)
        out, save_mean, save_invstd = torch.ops.aten.native_batch_norm(
            y, gamma, beta, running_mean, running_var, True, momentum, eps
        )
        del y, z
        out = out.relu_()
        ctx.conv_args = conv_args
        ctx.eps = eps
        ctx.has_nodes = node_h is not None
        ctx.save_for_backward(images, node_h, label_maps, weight, gamma, beta, out,
                              save_mean, save_invstd)  # fmt: skip
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        images, node_h, label_maps, weight, gamma, beta, out, save_mean, save_invstd = (
            ctx.saved_tensors
        )
        stride, padding, dilation, groups = ctx.conv_args
        needs = ctx.needs_input_grad
        z = _assemble(images, node_h, label_maps)  # recomputed: the gather and the concat
        y = torch.nn.functional.conv2d(z, weight, None, stride, padding, dilation, groups)
        grad_bn = grad_out.masked_fill(out <= 0, 0.0)  # through the ReLU
        affine = gamma is not None
        grad_y, grad_gamma, grad_beta = torch.ops.aten.native_batch_norm_backward(
            grad_bn, y, gamma, None, None, save_mean, save_invstd, True, ctx.eps,
            [True, affine and needs[4], affine and needs[5]],
        )  # fmt: skip
        del y, grad_bn
        want_input = needs[0] or needs[1]
        grad_z, grad_w, _ = torch.ops.aten.convolution_backward(
            grad_y, z, weight, None, stride, padding, dilation, False, [0, 0], groups,
            [want_input, needs[3], False],
        )  # fmt: skip
        grad_images = grad_h = None
        if want_input:
            if ctx.has_nodes:
                d = node_h.shape[1]
                if needs[1]:
                    grad_pix = grad_z[:, :d].permute(0, 2, 3, 1).reshape(-1, d)
                    grad_h = torch.zeros_like(node_h).index_add_(
                        0, label_maps.reshape(-1), grad_pix.to(node_h.dtype)
                    )
                if needs[0]:
                    grad_images = grad_z[:, d:].to(images.dtype)
            elif needs[0]:
                grad_images = grad_z
        return (grad_images, grad_h, None, grad_w, grad_gamma, grad_beta,
                None, None, None, None, None)  # fmt: skip


def conv_bn_relu(
    conv: nn.Conv2d,
    bn: nn.BatchNorm2d,
    images: torch.Tensor,
    node_h: torch.Tensor | None = None,
    label_maps: torch.Tensor | None = None,
) -> torch.Tensor:
    """``relu(bn(conv([QH, X])))`` in training mode, saving only what cannot be recomputed.

    Parameters
    ----------
    conv : nn.Conv2d
        Without bias (a BatchNorm follows).
    bn : nn.BatchNorm2d
        In training mode: batch statistics are used and the running statistics updated exactly
        as :class:`torch.nn.BatchNorm2d` does.
    images : (B, c, H, W) float tensor
        X, or the previous block's output when ``node_h`` is None.
    node_h : (K, d) float tensor, optional
        Node embeddings H; with ``label_maps`` the input is ``[QH, X]``, QH gathered per pixel.
    label_maps : (B, H, W) int64 tensor, optional
        Global node index of every pixel (Q).

    Returns
    -------
    (B, conv.out_channels, H', W') tensor.

    Notes
    -----
    Saved for backward: ``images``, ``node_h``, ``label_maps``, the output and two
    per-channel vectors, against the plain modules' additional (B, d + c, H, W) input and
    (B, out, H', W') convolution output. Not twice differentiable.
    """
    if conv.bias is not None:
        raise ValueError("conv_bn_relu expects a convolution without bias")
    if not bn.training:
        raise ValueError("conv_bn_relu is the training path; use the modules in eval mode")
    if isinstance(conv.padding, str):
        raise ValueError("conv_bn_relu needs numeric padding")
    if (node_h is None) != (label_maps is None):
        raise ValueError("node_h and label_maps go together")
    momentum = 0.0 if bn.momentum is None else bn.momentum
    if bn.track_running_stats and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        if bn.momentum is None:  # cumulative moving average, as nn.BatchNorm2d
            momentum = 1.0 / float(bn.num_batches_tracked)
    conv_args = (list(conv.stride), list(conv.padding), list(conv.dilation), conv.groups)
    return _ConvBNReLU.apply(
        images, node_h, label_maps, conv.weight, bn.weight, bn.bias,
        bn.running_mean if bn.track_running_stats else None,
        bn.running_var if bn.track_running_stats else None,
        momentum, bn.eps, conv_args,
    )  # fmt: skip
