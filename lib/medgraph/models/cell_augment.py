"""The seed's cell-image pipeline, batched in torch: resize, flips, rotation, colour jitter.

Daxesh & Swarnalatha ("Leukemia classifier using graph neural networks", §III.C) train their
ResNet-18 on C-NMC 2019 cells with torchvision transforms: resize to 128×128, random horizontal
flip, random rotation within ±10°, colour jitter of brightness and contrast, ``ToTensor`` and
normalisation. This module does the same on whole batches, on any device, without torchvision:

- :func:`prepare_cells`: uint8 ``(H, W, 3)`` images of any sizes → one ``(B, 3, S, S)`` float
  tensor in [0, 1] (bilinear, antialiased; the aspect ratio is not kept, as
  ``Resize((S, S))``);
- :class:`CellAugment`: per image, independently, a horizontal and a vertical flip each with
  probability ½ (the vertical flip is ours: a cell on a slide has no "up"), a rotation by an angle
  uniform in ±``rotation`` degrees about the centre (bilinear, zero padding: black, like the
  C-NMC background), then brightness, contrast and saturation factors each uniform in
  [1 − ``jitter``, 1 + ``jitter``] applied in that order as torchvision's ``ColorJitter``
  functions do (torchvision draws a random order and the paper names brightness and contrast
  only), then ImageNet normalisation. :meth:`CellAugment.normalise` alone is the evaluation
  transform.

Every random number is drawn from the ``torch.Generator`` given to the call, in a fixed order
(flips, angles, jitter factors), on the generator's device and then moved to the images: a CPU
generator with a given seed yields the same augmentation of a batch on the CPU and on a GPU (up
to floating-point differences in the resampling).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "prepare_cells", "CellAugment"]

#: ImageNet channel statistics (RGB in [0, 1]) of torchvision's pretrained models.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: ITU-R 601-2 luma weights, torchvision's ``rgb_to_grayscale``.
_LUMA = (0.299, 0.587, 0.114)

Device = torch.device | str | None


def _resize(x: Tensor, size: int) -> Tensor:
    if tuple(x.shape[-2:]) == (size, size):
        return x
    return F.interpolate(
        x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
    ).clamp_(0.0, 1.0)


def prepare_cells(
    images: Sequence[np.ndarray] | np.ndarray, size: int = 128, *, device: Device = None
) -> Tensor:
    """Cell images as one batch of ``size × size`` float RGB images in [0, 1].

    Parameters
    ----------
    images : sequence of (H_i, W_i, 3) uint8 arrays, or one (B, H, W, 3) uint8 array
        Sizes may differ; images of the same size are resized together.
    size : int, default 128
        Side of the output images.
    device : torch device of the output, default CPU (the resizing runs there)

    Returns
    -------
    (B, 3, size, size) float32 tensor in [0, 1], in the order of ``images``.
    """
    if int(size) < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    size = int(size)
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    arrays = list(images)
    if not arrays:
        raise ValueError("no images given")
    for i, im in enumerate(arrays):
        if not isinstance(im, np.ndarray) or im.ndim != 3 or im.shape[2] != 3:
            shape = getattr(im, "shape", None)
            raise ValueError(f"image {i} must be an (H, W, 3) array, got shape {shape}")
        if im.dtype != np.uint8:
            raise ValueError(f"image {i} must be uint8, got {im.dtype}")
        if im.shape[0] < 1 or im.shape[1] < 1:
            raise ValueError(f"image {i} is empty, shape {im.shape}")
    dev = torch.device("cpu") if device is None else torch.device(device)
    out = torch.empty((len(arrays), 3, size, size), dtype=torch.float32, device=dev)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, im in enumerate(arrays):
        groups.setdefault((im.shape[0], im.shape[1]), []).append(i)
    for idx in groups.values():  # one resize per distinct input size
        stack = torch.from_numpy(np.stack([arrays[i] for i in idx])).to(dev)
        x = stack.permute(0, 3, 1, 2).float().div_(255.0)
        out[torch.tensor(idx, device=dev)] = _resize(x, size)
    return out


def _grayscale(x: Tensor) -> Tensor:
    """(B, 3, H, W) RGB → (B, 1, H, W) luma."""
    w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


class CellAugment:
    """The seed's training augmentation and the evaluation normalisation, batched.

    Parameters
    ----------
    size : int, default 128
        Side of the images; inputs of another size are resized first (bilinear, antialiased).
    rotation : float, default 10
        Largest rotation, in degrees; angles are uniform in [−rotation, rotation]. 0: none.
    jitter : float, default 0.2
        Brightness, contrast and saturation factors are each uniform in
        [max(0, 1 − jitter), 1 + jitter]: brightness multiplies the image; contrast blends it
        with the mean of its luma (``c·x + (1 − c)·mean``); saturation blends it with its luma
        image (``s·x + (1 − s)·gray``); each step clipped to [0, 1], as torchvision's
        ``adjust_brightness`` / ``adjust_contrast`` / ``adjust_saturation``. 0: none.
    flip : bool, default True
        Random horizontal and vertical flips, each with probability ½.
    mean, std : 3 floats, default ImageNet's
        Normalisation ``(x − mean) / std`` per channel.

    Notes
    -----
    ``augment(x, generator)`` returns the augmented images in [0, 1] (for display);
    ``__call__(x, generator)`` is ``normalise(augment(x, generator))``, the training input;
    ``normalise(x)`` is the evaluation input. ``x`` is ``(B, 3, H, W)`` float in [0, 1], as from
    :func:`prepare_cells`; the output is ``(B, 3, size, size)`` on ``x``'s device.
    """

    def __init__(
        self,
        size: int = 128,
        rotation: float = 10.0,
        jitter: float = 0.2,
        flip: bool = True,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        if int(size) < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        if not 0.0 <= float(rotation) <= 180.0:
            raise ValueError(f"rotation must lie in [0, 180] degrees, got {rotation}")
        if float(jitter) < 0.0:
            raise ValueError(f"jitter must be >= 0, got {jitter}")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean and std need 3 values each, std > 0; got {mean}, {std}")
        self.size = int(size)
        self.rotation = float(rotation)
        self.jitter = float(jitter)
        self.flip = bool(flip)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def __repr__(self) -> str:
        return (
            f"CellAugment(size={self.size}, rotation={self.rotation}, jitter={self.jitter}, "
            f"flip={self.flip})"
        )

    def _check(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
            raise ValueError(
                f"expected (B, 3, H, W) float images in [0, 1], got {x.dtype} {tuple(x.shape)}"
            )
        return _resize(x, self.size)

    def normalise(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) float in [0, 1] → (B, 3, size, size) normalised (the evaluation input)."""
        x = self._check(x)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def augment(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Random flips, rotation and colour jitter; (B, 3, size, size) float in [0, 1].

        ``generator`` None draws from torch's global generator.
        """
        x = self._check(x)
        b = x.shape[0]
        gen_device = generator.device if generator is not None else torch.device("cpu")

        def draw(*shape: int) -> Tensor:
            u = torch.rand(shape, generator=generator, device=gen_device)
            return u.to(device=x.device, dtype=x.dtype)

        if self.flip:
            coins = draw(b, 2) < 0.5
            h = coins[:, 0].view(b, 1, 1, 1)
            v = coins[:, 1].view(b, 1, 1, 1)
            x = torch.where(h, x.flip(-1), x)
            x = torch.where(v, x.flip(-2), x)
        if self.rotation > 0:
            angle = (draw(b) * 2.0 - 1.0) * math.radians(self.rotation)
            cos, sin = torch.cos(angle), torch.sin(angle)
            zero = torch.zeros_like(angle)
            # output (u, v) samples the input at R(angle)·(u, v): a rotation about the centre
            theta = torch.stack(
                (torch.stack((cos, -sin, zero), 1), torch.stack((sin, cos, zero), 1)), 1
            )
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.jitter > 0:
            lo, hi = max(0.0, 1.0 - self.jitter), 1.0 + self.jitter
            factors = (lo + (hi - lo) * draw(b, 3)).view(b, 3, 1, 1, 1)
            brightness, contrast, saturation = factors.unbind(1)
            x = (x * brightness).clamp(0.0, 1.0)
            mean = _grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
            x = (contrast * x + (1.0 - contrast) * mean).clamp(0.0, 1.0)
            x = (saturation * x + (1.0 - saturation) * _grayscale(x)).clamp(0.0, 1.0)
        return x

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The training input: ``normalise(augment(x, generator))``, (B, 3, size, size)."""
        return self.normalise(self.augment(x, generator))
