"""Image models in the zoo (kind ``image``): loading a weights file, and the model a stream names.

A weights file is a plain ``torch.save`` of the state dict (loaded with ``weights_only=True``: no pickled code
runs); the sizes of :class:`~.model.ImageModelConfig` are read from the tensor shapes.
"""

from __future__ import annotations

import io
from typing import Any

import torch

from .. import zoo
from ..bitstream import StreamHeader
from ..errors import ModelError
from .model import GainHyperprior, ImageModelConfig

__all__ = ["KIND", "model_from_bytes", "config_from_state", "load_image_model", "stream_model"]

KIND = "image"


def config_from_state(state: dict[str, torch.Tensor]) -> ImageModelConfig:
    """The model sizes that a state dict was saved with."""
    try:
        return ImageModelConfig(
            channels=int(state["g_a.0.weight"].shape[0]),
            latent=int(state["g_a.6.weight"].shape[0]),
            hyper=int(state["h_a.0.weight"].shape[0]),
            z_channels=int(state["h_a.4.weight"].shape[0]),
            levels=int(state["log_gain"].shape[0]),
        )
    except (KeyError, IndexError) as exc:
        raise ModelError(f"not an image model state dict (missing {exc})") from None


def model_from_bytes(data: bytes) -> GainHyperprior:
    """A :class:`GainHyperprior` in eval mode from the bytes of its weights file.

    Raises:
        ModelError: the bytes are not an image model's state dict.
    """
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign bytes
        raise ModelError(f"unreadable image model weights ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise ModelError("image model weights are not a state dict")
    net = GainHyperprior(config_from_state(state))
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"image model weights do not fit the network: {str(exc).splitlines()[0]}") from None
    # channels-last tensors run the CPU convolutions about a third faster (same values)
    return net.eval().to(memory_format=torch.channels_last)


zoo.register_loader(KIND, model_from_bytes)


def load_image_model(name: str, kind: str = KIND) -> tuple[Any, str]:
    """The installed image model ``name`` of zoo kind ``kind`` and its weights sha256 (hex): a
    :class:`GainHyperprior` for kind ``image``, a :class:`~.subband_model.SubbandModel` for ``image_contexts``.

    Raises:
        InputError: no image model of that name.
        ModelError: its file is missing or damaged.
    """
    net = zoo.load(name, kind)
    return net, zoo.entry(name, kind)["sha256"]


def stream_model(header: StreamHeader, kind: str = KIND) -> Any:
    """The model a stream was coded with, checked against the sha256 in its header.

    Raises:
        ModelError: the model is not installed, or this installation's weights differ from the stream's.
    """
    try:
        net, sha = load_image_model(header.model, kind)
    except ModelError:
        raise
    except Exception:
        raise ModelError(f"the stream was coded with image model {header.model!r}, which this omnicodec does not "
                         "have; decode with the omnicodec version that wrote it") from None
    if sha != header.weights_sha256.hex():
        raise ModelError(f"the stream was coded with image model {header.model!r} sha256 "
                         f"{header.weights_sha256.hex()[:16]}..., this installation has {sha[:16]}...; decode with "
                         "the omnicodec version that wrote it")
    return net
