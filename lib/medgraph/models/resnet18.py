"""ResNet-18 in plain torch, with torchvision's parameter names, for the leukaemia cell study.

K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016: the
18-layer network of their Table 1 (a 7×7 stride-2 stem, a 3×3 stride-2 max-pool, four stages of
two basic blocks with 64-128-256-512 channels, the first block of stages 2-4 halving the
resolution with a strided 3×3 convolution and a strided 1×1 convolution + BN shortcut (option B),
global average pooling, a linear layer). The seed paper (Daxesh & Swarnalatha, "Leukemia
classifier using graph neural networks") fine-tunes an ImageNet ResNet-18 at 128×128 and uses its
pooled 512-d features (``model.fc = nn.Identity()``) as node features of a kNN graph of samples.

The module tree is torchvision's ``resnet18`` (``conv1``, ``bn1``, ``layer{1..4}.{0,1}.conv1``,
``.bn1``, ``.conv2``, ``.bn2``, ``layer{2,3,4}.0.downsample.{0,1}``, ``fc``), so its state dict
has torchvision's 122 keys and shapes and the official checkpoint ``resnet18-f37072fd.pth`` loads
with ``strict=True``; 11,689,512 parameters at 1000 classes. Initialisation is torchvision's
(Kaiming-normal, ``fan_out``, for convolutions; BN weight 1, bias 0; ``zero_init_residual``
off; torch's default for the linear layer), drawn from a private generator seeded by ``seed``:
building a network never touches torch's global random state. torchvision itself is not used.

Weights are never downloaded: :func:`load_imagenet_resnet18` reads an explicit file, or else
looks in the torch hub cache (``torch.hub.get_dir()/checkpoints/resnet18-f37072fd.pth``, where
``torchvision.models.resnet18(weights="IMAGENET1K_V1")`` puts it, or any other
``resnet18-*.pth`` there, e.g. the older ``resnet18-5c106cde.pth``) and returns None when
nothing is there. :data:`RESNET18_URL` says where to fetch the file by hand.

Not to be confused with :class:`medgraph.models.resnet.LightResNet`, the small ResNet of the
white-blood-cell typing study.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

__all__ = [
    "RESNET18_FILENAME",
    "RESNET18_URL",
    "ResNet18",
    "resnet18_cache_path",
    "find_cached_resnet18",
    "resnet18_state_dict",
    "load_imagenet_resnet18",
    "cell_classifier",
]

#: torchvision's file name of the ImageNet ResNet-18 weights (``IMAGENET1K_V1``).
RESNET18_FILENAME = "resnet18-f37072fd.pth"
#: Where torchvision publishes that file (download by hand; nothing here downloads).
RESNET18_URL = f"https://download.pytorch.org/models/{RESNET18_FILENAME}"

Device = torch.device | str | None


class _BasicBlock(nn.Module):
    """torchvision's ``BasicBlock``: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    The shortcut is the identity, or ``downsample`` (strided 1×1 conv + BN) when the stride or
    the width changes. Shapes: (B, c_in, H, W) → (B, c_out, ⌈H/stride⌉, ⌈W/stride⌉).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def _stage(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(_BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out))


def _generator(seed: int | None) -> torch.Generator:
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def _init_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    """torch's default ``nn.Linear`` initialisation, drawn from ``generator``.

    Weight and bias uniform in ±1/√fan_in (``kaiming_uniform_(a=√5)`` gives that bound).
    """
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        if layer.bias is not None:
            bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features else 0.0
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016) with torchvision's state-dict keys.

    Parameters
    ----------
    num_classes : int, default 1000
        Rows of ``fc``.
    seed : int or None, default 0
        Seed of the private generator of the initialisation (None: a fresh random seed); the
        global torch random state is not touched.
    device : torch device of the parameters, default CPU (initialised on the CPU, then moved:
        the same seed gives the same weights everywhere)

    Notes
    -----
    ``embed`` maps normalised images ``(B, 3, H, W)`` to the pooled features ``(B, 512)`` (the
    network with ``fc`` replaced by the identity); ``forward`` is ``fc(embed(x))``, logits
    ``(B, num_classes)``. The input is downsampled 32×: 128×128 reaches the pooling at 4×4,
    and any side ≥ 1 pixel works. Inputs are expected ImageNet-normalised
    (:meth:`medgraph.models.cell_augment.CellAugment.normalise`).
    """

    embed_dim = 512

    def __init__(self, num_classes: int = 1000, *, seed: int | None = 0, device: Device = None):
        super().__init__()
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        # built on the meta device (no memory, no random numbers), then materialised and
        # initialised from the private generator
        with torch.device("meta"):
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = _stage(64, 64, 1)
            self.layer2 = _stage(64, 128, 2)
            self.layer3 = _stage(128, 256, 2)
            self.layer4 = _stage(256, 512, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(self.embed_dim, self.num_classes)
        self.to_empty(device="cpu")
        self.reset_parameters(_generator(seed))
        if device is not None:
            self.to(device)

    def reset_parameters(self, generator: torch.Generator | None = None) -> ResNet18:
        """torchvision's initialisation, drawn from ``generator`` only; BN running stats reset.

        Convolutions: Kaiming-normal with ``mode="fan_out"``, ``nonlinearity="relu"``; BN:
        weight 1, bias 0, running mean 0, running variance 1, ``num_batches_tracked`` 0;
        ``fc``: torch's default (uniform in ±1/√512). Returns ``self``.
        """
        gen = generator if generator is not None else _generator(None)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(
                        m.weight, mode="fan_out", nonlinearity="relu", generator=gen
                    )
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                    m.reset_running_stats()
            if isinstance(self.fc, nn.Linear):
                _init_linear(self.fc, gen)
        return self

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"ResNet18 expects (B, 3, H, W) images, got shape {tuple(x.shape)}")

    def embed(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) normalised images → (B, 512) globally average-pooled features."""
        self._check_input(x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) normalised images → (B, num_classes) logits, ``fc(embed(x))``."""
        return self.fc(self.embed(x))


def resnet18_cache_path() -> Path:
    """Where torchvision keeps the weights: ``torch.hub.get_dir()/checkpoints/<file>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / RESNET18_FILENAME


def find_cached_resnet18() -> Path | None:
    """The ResNet-18 weights in the torch hub cache, or None; looks, never downloads.

    Prefers :data:`RESNET18_FILENAME`; otherwise the first (by name) ``resnet18-*.pth`` file in
    ``torch.hub.get_dir()/checkpoints``.
    """
    preferred = resnet18_cache_path()
    if preferred.is_file():
        return preferred
    folder = preferred.parent
    if not folder.is_dir():
        return None
    others = sorted(p for p in folder.glob("resnet18-*.pth") if p.is_file())
    return others[0] if others else None


_WRAPPERS = ("state_dict", "model")


def resnet18_state_dict(checkpoint: Mapping[str, Any]) -> dict[str, Tensor]:
    """The tensors of a ResNet-18 checkpoint, keyed as torchvision keys them.

    Accepts a plain state dict (torchvision's file), or one wrapped under ``"state_dict"`` or
    ``"model"`` (training checkpoints); leading ``"module."`` prefixes (``DataParallel``) are
    stripped. Non-tensor entries are dropped.
    """
    sd: Any = checkpoint
    while isinstance(sd, Mapping) and not any(isinstance(v, Tensor) for v in sd.values()):
        inner = next((sd[k] for k in _WRAPPERS if isinstance(sd.get(k), Mapping)), None)
        if inner is None:
            break
        sd = inner
    if not isinstance(sd, Mapping):
        raise ValueError(f"checkpoint is a {type(sd).__name__}, not a state dict")
    out: dict[str, Tensor] = {}
    for key, value in sd.items():
        name = str(key)
        while name.startswith("module."):
            name = name[len("module.") :]
        if isinstance(value, Tensor):
            out[name] = value
    return out


def _first_mismatch(
    sd: Mapping[str, Tensor], expected: Mapping[str, tuple[int, ...]]
) -> tuple[str, str, int] | None:
    """(key, what is wrong, number of mismatching keys) or None when ``sd`` fits ``expected``.

    Keys are visited in the model's order, then the unexpected ones in the file's order.
    """
    problems: list[tuple[str, str]] = []
    for key, shape in expected.items():
        if key not in sd:
            problems.append((key, "missing"))
        elif tuple(sd[key].shape) != shape:
            problems.append((key, f"has shape {tuple(sd[key].shape)}, a ResNet-18 needs {shape}"))
    problems += [(key, "unexpected") for key in sd if key not in expected]
    if not problems:
        return None
    key, what = problems[0]
    return key, what, len(problems)


def load_imagenet_resnet18(
    weights: str | Path | None = None, *, device: Device = None
) -> ResNet18 | None:
    """A ResNet-18 with the weights of a torchvision-style file; never downloads.

    Parameters
    ----------
    weights : path, optional
        A ResNet-18 state dict (``torch.save(model.state_dict(), path)``; the wrappers of
        :func:`resnet18_state_dict` are accepted). Without it, the torch hub cache is searched
        (:func:`find_cached_resnet18`).
    device : torch device of the returned model, default CPU

    Returns
    -------
    ResNet18 or None
        In train mode, as torchvision returns it (call ``.eval()`` to extract features).
        ``num_classes`` is the number of rows of the file's ``fc.weight`` (1000 for ImageNet).
        None when ``weights`` is None and the hub cache holds no ResNet-18 file.

    Raises
    ------
    FileNotFoundError
        When ``weights`` is given and no file is there.
    ValueError
        When the file cannot be read as tensors, or its keys or shapes are not a ResNet-18's;
        the message names the file and the first mismatching key.
    """
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"no ResNet-18 weights at {str(path)!r}; nothing is downloaded here: fetch "
                f"{RESNET18_URL} by hand, or put it at {resnet18_cache_path()}"
            )
    else:
        found = find_cached_resnet18()
        if found is None:
            return None
        path = found
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"cannot read {path} as a tensors-only state dict ({first})") from err
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"{path} holds a {type(checkpoint).__name__}, not a state dict")
    sd = resnet18_state_dict(checkpoint)
    fc = sd.get("fc.weight")
    num_classes = int(fc.shape[0]) if isinstance(fc, Tensor) and fc.ndim == 2 else 1000
    model = ResNet18(num_classes=max(num_classes, 1), seed=0)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mismatch = _first_mismatch(sd, expected)
    if mismatch is not None:
        key, what, count = mismatch
        raise ValueError(
            f"{path} is not a torchvision ResNet-18 state dict: key {key!r} {what} "
            f"({count} mismatching key{'s' if count != 1 else ''} in all)"
        )
    model.load_state_dict(sd, strict=True)
    return model if device is None else model.to(device)


def cell_classifier(
    n_classes: int,
    *,
    pretrained: str | Path | Literal["auto"] | None = None,
    seed: int | None = 0,
    device: Device = None,
) -> tuple[ResNet18, str]:
    """The seed's cell classifier: a ResNet-18 with a fresh ``Linear(512, n_classes)`` head.

    Parameters
    ----------
    n_classes : int
        Rows of the new ``fc`` (2 for HEM / ALL).
    pretrained : None, path or "auto"
        None: random initialisation throughout (:class:`ResNet18` with ``seed``); a path: the
        backbone from that file (:func:`load_imagenet_resnet18`, its errors propagate);
        ``"auto"``: the torch hub cache if it holds a ResNet-18 file, else random
        initialisation (the returned note says which).
    seed : int or None, default 0
        Seed of the head's (and, without weights, the whole network's) initialisation; the
        global torch random state is not touched.
    device : torch device of the model, default CPU

    Returns
    -------
    model : ResNet18
        ``num_classes == n_classes``, in train mode.
    weights_used : str
        ``"imagenet:<file name>"`` or ``"random-init"``, for reports.
    """
    if int(n_classes) < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    if pretrained is None:
        return ResNet18(num_classes=int(n_classes), seed=seed, device=device), "random-init"
    if isinstance(pretrained, str) and pretrained == "auto":
        source = find_cached_resnet18()
        if source is None:
            return ResNet18(num_classes=int(n_classes), seed=seed, device=device), "random-init"
    else:
        source = Path(pretrained).expanduser()
    backbone = load_imagenet_resnet18(source)
    assert backbone is not None
    with torch.device("meta"):  # no draw from the global generator
        head = nn.Linear(ResNet18.embed_dim, int(n_classes))
    head.to_empty(device="cpu")
    _init_linear(head, _generator(seed))
    backbone.fc = head
    backbone.num_classes = int(n_classes)
    return (backbone if device is None else backbone.to(device)), f"imagenet:{source.name}"
