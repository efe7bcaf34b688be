"""The attributes of a point-cloud stream: which coder each attribute gets, its header entry and its payload.

* Colours (``rgb``, uint8): lossless through the predictive attribute codec (:mod:`.attr_codec`); lossy
  (``attr_rate`` 1..8) through the RAHT coder (:mod:`.attr_raht`).
* Scalar returns (``intensity``, ``reflectance``): the predictive codec, lossless or lossy.
* Every other attribute (normals, curvature, user fields), and scalars the codecs cannot take (floats with more
  than 65,536 distinct values, NaNs): the generic lossless byte-plane coder (:mod:`.attributes`).

The header entry of an attribute says which: ``"method": "pred"`` or ``"raht"``, with ``kind``, ``attr_rate``,
``model`` and ``model_sha256``; no method: the generic coder, as in streams written before the attribute codecs
existed, which therefore still decode. Streams whose lossy colours were coded by the predictive codec (``"pred"``
with a rate) also still decode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..bitstream.params import stream_dtype
from ..errors import CorruptStreamError, InputError, ModelError
from . import attr_model, attr_raht_model
from .attr_codec import ATTR_RATES, decode_predictive, encode_predictive, predictive_kind
from .attr_raht import RAHT_RATES, decode_raht, encode_raht, rgb_to_ycbcr, ycbcr_to_rgb
from .attributes import attribute_spec, decode_attribute, encode_attribute

__all__ = ["check_attr_rate", "encode_attributes", "decode_attributes"]


def check_attr_rate(attr_rate: Any) -> int | None:
    """``attr_rate`` as an int rate point or None (lossless).

    Raises:
        InputError: anything else.
    """
    if attr_rate is None:
        return None
    if isinstance(attr_rate, bool) or not isinstance(attr_rate, (int, np.integer)) or int(attr_rate) not in ATTR_RATES:
        raise InputError(f"attribute rate must be an integer {ATTR_RATES[0]}..{ATTR_RATES[-1]} (1: fewest bits), "
                         f"got {attr_rate!r}")
    return int(attr_rate)


def encode_attributes(attributes: dict[str, np.ndarray], coords: np.ndarray, attr_rate: int | None,
                      coder: str | int) -> tuple[list[dict], list[bytes], dict[str, np.ndarray]]:
    """Code every attribute of points the decoder will know at ``coords``.

    Args:
        attributes: name -> ``(N,)`` or ``(N, k)`` values, in the decoder's point order.
        coords: ``(N, 3)`` integer voxel coordinates of those points (the decoder's).
        attr_rate: None (lossless) or a rate point for colours and scalar returns.
        coder: entropy coder id.

    Returns:
        The header entries, the payloads, and the attributes as the decoder will rebuild them.
    """
    attr_rate = check_attr_rate(attr_rate)
    specs, payloads, decoded = [], [], {}
    model = raht_model = None
    for name, values in attributes.items():
        spec = attribute_spec(name, values)
        kind = predictive_kind(name, values)
        if kind is None:
            payloads.append(encode_attribute(values))
            decoded[name] = values
        elif kind == "colour" and attr_rate is not None:
            raht_model = raht_model or attr_raht_model.load_model()
            data, rec = encode_raht(coords, rgb_to_ycbcr(values), kind, attr_rate, raht_model, coder)
            spec.update(method="raht", kind=kind, attr_rate=attr_rate, model=attr_raht_model.DEFAULT_MODEL,
                        model_sha256=raht_model.sha256)
            payloads.append(data)
            decoded[name] = ycbcr_to_rgb(rec)
        else:
            model = model or attr_model.load_model()
            data, rec = encode_predictive(coords, values, kind, attr_rate, model, coder)
            spec.update(method="pred", kind=kind, attr_rate=attr_rate, model=attr_model.DEFAULT_MODEL,
                        model_sha256=model.sha256)
            payloads.append(data)
            decoded[name] = rec
        specs.append(spec)
    return specs, payloads, decoded


def _model_for(spec: dict, module=attr_model):
    name, digest = spec.get("model"), spec.get("model_sha256")
    if not isinstance(name, str) or not isinstance(digest, str):
        raise CorruptStreamError(f"attribute {spec.get('name')!r} does not name its model")
    try:
        model = module.load_model(name)
    except (InputError, ModelError) as exc:
        raise ModelError(f"attribute {spec.get('name')!r} was coded with model {name!r}, which cannot be loaded "
                         f"here: {exc}") from None
    if model.sha256 != digest:
        raise ModelError(f"attribute {spec.get('name')!r} was coded with model {name!r} sha256 {digest[:16]}..., "
                         f"this installation has {model.sha256[:16]}...; decode with the omnicodec version that "
                         "wrote it")
    return model


def decode_attributes(specs: list[dict], payloads: list[bytes], coords: np.ndarray, coder: str | int
                      ) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_attributes` for the decoded points at ``coords``.

    Raises:
        CorruptStreamError: a malformed entry or payload. ModelError: the stream's model is not installed here.
    """
    if len(payloads) != len(specs):
        raise CorruptStreamError(f"{len(payloads)} attribute payloads for {len(specs)} attributes")
    names = [spec.get("name") if isinstance(spec, dict) else None for spec in specs]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise CorruptStreamError(f"attribute names {names!r} are not distinct names")
    out: dict[str, np.ndarray] = {}
    count = len(coords)
    for spec, data in zip(specs, payloads, strict=True):
        method = spec.get("method")
        if method is None:
            out[spec.get("name")] = decode_attribute(data, spec, count)
            continue
        if method not in ("pred", "raht"):
            raise CorruptStreamError(f"attribute {spec.get('name')!r} uses an unknown method {method!r}")
        try:
            name, kind, channels = str(spec["name"]), spec["kind"], int(spec["channels"])
            dtype = stream_dtype(spec["dtype"], "attribute dtype")
            rate = spec["attr_rate"]
            shape_1d = bool(spec.get("shape_1d", channels == 1))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CorruptStreamError(f"bad attribute description {spec!r}: {exc}") from None
        if kind == "colour":
            if dtype != np.uint8 or channels != 3:
                raise CorruptStreamError(f"attribute {name!r}: a colour must be 3 uint8 channels")
        elif kind == "scalar":
            if dtype.kind not in "iuf" or dtype.itemsize > 8 or channels != 1:
                raise CorruptStreamError(f"attribute {name!r}: a scalar must be one numeric channel")
        else:
            raise CorruptStreamError(f"attribute {name!r} has an unknown kind {kind!r}")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or rate not in ATTR_RATES):
            raise CorruptStreamError(f"attribute {name!r} has a bad rate {rate!r}")
        if method == "raht":
            if kind != "colour" or rate not in RAHT_RATES:
                raise CorruptStreamError(f"attribute {name!r}: the RAHT coder takes lossy colours only")
            rec = decode_raht(data, coords, kind, rate, _model_for(spec, attr_raht_model), coder)
            out[name] = ycbcr_to_rgb(rec)
            continue
        out[name] = decode_predictive(data, coords, kind, rate, dtype, shape_1d, _model_for(spec), coder)
    return out
