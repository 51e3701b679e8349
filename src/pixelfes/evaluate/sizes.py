"""Model size: parameters and bytes of a pixelfes model, and of the paper's GAN baselines (Table I).

The GAN counts come from instantiating the generators of the official repositories with
random weights in PyTorch (the optional ``[bench]`` extra); no weights are downloaded.

* StarGAN (Choi et al., CVPR 2018), ``yunjey/stargan`` ``model.py``:
  ``Generator(conv_dim=64, c_dim=5, repeat_num=6)``: conv 7x7 (3 + c_dim -> 64), two
  stride-2 convs 4x4 (64 -> 128 -> 256), six residual blocks (two 3x3 convs 256 -> 256),
  two stride-2 transposed convs 4x4 (256 -> 128 -> 64), conv 7x7 (64 -> 3) + tanh; every
  conv without bias, each followed (except the last) by an affine InstanceNorm.
* GANimation (Pumarola et al., ECCV 2018 / IJCV 2020), ``albertpumarola/GANimation``
  ``networks/generator_wasserstein_gan.py``: the same trunk with ``c_dim=17`` action units
  (``--cond_nc`` default, ``options/base_options.py``) and two heads, colour (conv 7x7
  64 -> 3 + tanh) and attention (conv 7x7 64 -> 1 + sigmoid).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ModelSize",
    "gan_parameter_counts",
    "ganimation_generator",
    "model_size",
    "stargan_generator",
]


@dataclass(frozen=True)
class ModelSize:
    """Number of stored parameters (tensor elements) and bytes on disk."""

    parameters: int
    bytes: int


def _safetensors_size(path: Path) -> ModelSize:
    try:
        from safetensors import safe_open
    except ImportError as exc:  # pragma: no cover - safetensors is a core dependency
        raise ImportError("model_size needs safetensors: pip install safetensors") from exc
    n = 0
    with safe_open(str(path), framework="numpy") as f:
        for key in f.keys():
            n += int(np.prod(f.get_slice(key).get_shape(), dtype=np.int64))
    return ModelSize(parameters=n, bytes=path.stat().st_size)


def model_size(model_or_path: object) -> ModelSize:
    """Parameters and bytes of a saved model.

    ``model_or_path``: a path to a safetensors file (every tensor's elements are counted,
    bytes = file size, header included); a mapping ``name -> numpy array`` (counted, and
    serialised to safetensors to measure its bytes); or a model object with a
    ``save(path)`` method writing safetensors (saved to a temporary file and measured).
    """
    if isinstance(model_or_path, (str, os.PathLike)):
        path = Path(model_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"model file {path} does not exist")
        try:
            return _safetensors_size(path)
        except Exception as exc:
            raise ValueError(f"{path} is not a readable safetensors file: {exc}") from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        if isinstance(model_or_path, Mapping):
            from safetensors.numpy import save_file

            save_file({str(k): np.ascontiguousarray(v) for k, v in model_or_path.items()}, str(path))
        elif callable(getattr(model_or_path, "save", None)):
            model_or_path.save(path)  # type: ignore[attr-defined]
            if not path.is_file():
                raise ValueError(f"{type(model_or_path).__name__}.save(path) wrote no file at {path}")
        else:
            raise TypeError(
                "model_or_path must be a path to a safetensors file, a mapping of numpy arrays or a "
                f"model with a save(path) method; got {type(model_or_path).__name__}"
            )
        return _safetensors_size(path)


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "the GAN parameter counts instantiate the generators in PyTorch: "
            "pip install 'pixelfes[bench]'"
        ) from exc
    return torch


def _trunk(nn: Any, conv_dim: int, c_dim: int, repeat_num: int) -> tuple[list[Any], int]:
    """StarGAN/GANimation encoder, residual bottleneck and decoder (without the output conv)."""

    def conv_in(cin: int, cout: int, k: int, s: int, p: int, transposed: bool = False) -> list[Any]:
        conv = (nn.ConvTranspose2d if transposed else nn.Conv2d)(cin, cout, k, s, p, bias=False)
        return [conv, nn.InstanceNorm2d(cout, affine=True), nn.ReLU(inplace=True)]

    class ResidualBlock(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim, affine=True),
                nn.ReLU(inplace=True),
                nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim, affine=True),
            )

        def forward(self, x: Any) -> Any:
            return x + self.main(x)

    layers = conv_in(3 + c_dim, conv_dim, 7, 1, 3)
    d = conv_dim
    for _ in range(2):
        layers += conv_in(d, 2 * d, 4, 2, 1)
        d *= 2
    layers += [ResidualBlock(d) for _ in range(repeat_num)]
    for _ in range(2):
        layers += conv_in(d, d // 2, 4, 2, 1, transposed=True)
        d //= 2
    return layers, d


def stargan_generator(conv_dim: int = 64, c_dim: int = 5, repeat_num: int = 6) -> Any:
    """StarGAN's generator as a ``torch.nn.Sequential`` over ``cat(image, labels)``, random weights."""
    nn = _torch().nn
    layers, d = _trunk(nn, conv_dim, c_dim, repeat_num)
    return nn.Sequential(*layers, nn.Conv2d(d, 3, 7, 1, 3, bias=False), nn.Tanh())


def ganimation_generator(conv_dim: int = 64, c_dim: int = 17, repeat_num: int = 6) -> Any:
    """GANimation's generator (trunk + colour head + attention head) as a ``torch.nn.ModuleDict``."""
    nn = _torch().nn
    layers, d = _trunk(nn, conv_dim, c_dim, repeat_num)
    return nn.ModuleDict({
        "main": nn.Sequential(*layers),
        "img_reg": nn.Sequential(nn.Conv2d(d, 3, 7, 1, 3, bias=False), nn.Tanh()),
        "attention_reg": nn.Sequential(nn.Conv2d(d, 1, 7, 1, 3, bias=False), nn.Sigmoid()),
    })


def gan_parameter_counts() -> dict[str, int]:
    """Generator parameter counts of StarGAN and GANimation with their published defaults.

    Trainable parameters only (InstanceNorm running statistics are buffers, not parameters).
    Returns ``{"StarGAN": ..., "GANimation": ...}``.
    """
    return {
        name: int(sum(p.numel() for p in net.parameters()))
        for name, net in (("StarGAN", stargan_generator()), ("GANimation", ganimation_generator()))
    }
