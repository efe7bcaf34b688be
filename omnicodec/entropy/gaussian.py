"""Quantised Gaussian conditional: latents coded with a predicted mean and scale (a hyperprior's output).

``q = round(y - mean)`` is coded with the integer table of the scale's index in a fixed, log-spaced scale table
(:mod:`omnicodec.entropy.scale_table`: 89 scales from 0.125 to 256, 8 per octave, mapped by an exact fixed-point
rule); ``y_hat = q + mean``. Any integer ``q`` is lossless (the escape symbol covers the tails).

The tables are computed once (float64 formula, then integer quantisation), shipped as ``scale_tables.npz`` and kept
as buffers in the state dict. Encoder and decoder must pass bit-identical scales and means: see the residual risk
in :mod:`omnicodec.entropy.scale_table`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import InputError
from .coder import Decoder, Encoder, get_coder
from .scale_table import NUM_SCALES, load_scale_tables, scale_index
from .table_buffers import TableBuffers, lower_bound
from .table_set import TableSet, decode_indexed, encode_indexed
from .tables import to_numpy

__all__ = ["GaussianConditional"]


class GaussianConditional(TableBuffers):
    """Entropy model of latents given per-element scales (and optional means).

    Args:
        scale_bound: smallest scale used by :meth:`forward` (training); coding maps small scales to index 0.
        likelihood_bound: smallest likelihood returned by :meth:`forward`.
    """

    def __init__(self, scale_bound: float = 0.11, likelihood_bound: float = 1e-9) -> None:
        super().__init__()
        if scale_bound <= 0:
            raise InputError("scale_bound must be positive")
        self.scale_bound = float(scale_bound)
        self.likelihood_bound = float(likelihood_bound)
        self._init_table_buffers(NUM_SCALES)
        self._set_tables(load_scale_tables())

    def _tables_missing(self) -> None:
        self._set_tables(load_scale_tables())

    @property
    def tables(self) -> TableSet:
        """The integer tables, one per scale index."""
        return self._current_tables()

    @staticmethod
    def scale_index(scales: torch.Tensor | np.ndarray) -> np.ndarray:
        """Table index of each scale (exact fixed-point rule), int16, same shape."""
        return scale_index(to_numpy(scales))

    # --- training -----------------------------------------------------------------------------------------------

    def _likelihood(self, y_hat: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None) -> torch.Tensor:
        v = torch.abs(y_hat - means) if means is not None else torch.abs(y_hat)
        s = lower_bound(scales, self.scale_bound)
        inv = 1.0 / (s * math.sqrt(2.0))
        # Phi(x) = erfc(-x / sqrt(2)) / 2, evaluated on the side where it is accurate
        upper = 0.5 * torch.erfc((v - 0.5) * inv)
        lower = 0.5 * torch.erfc((v + 0.5) * inv)
        return upper - lower

    def forward(
        self, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantises (uniform noise when training, ``round(y - mean) + mean`` in eval mode); returns likelihoods.

        Args:
            y: latents, any shape. scales: positive, broadcastable to ``y``. means: broadcastable to ``y``.

        Returns:
            ``(y_hat, likelihoods)`` shaped like ``y``.
        """
        if self.training:
            y_hat = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        else:
            y_hat = torch.round(y - means) + means if means is not None else torch.round(y)
        lik = self._likelihood(y_hat, scales, means)
        return y_hat, lower_bound(lik, self.likelihood_bound)

    # --- coding -------------------------------------------------------------------------------------------------

    @staticmethod
    def _inputs(shape: tuple[int, ...], scales, means) -> tuple[np.ndarray, np.ndarray | None]:
        s = to_numpy(scales)
        if tuple(s.shape) != shape:
            raise InputError(f"scales have shape {tuple(s.shape)}, expected {shape}")
        m = None
        if means is not None:
            m = np.broadcast_to(to_numpy(means), shape)
            if not np.isfinite(m).all():
                raise InputError("means must be finite")
        return s, m

    def encode(
        self, enc: Encoder, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Codes ``q = round(y - means)`` with the tables of ``scale_index(scales)``.

        Args:
            enc: an encoder.
            y: latents, any shape, any device. scales: same shape. means: broadcastable to ``y`` or ``None``.

        Returns:
            ``y_hat = q + means``, with ``y``'s device and float dtype.

        Raises:
            InputError: non-finite values, NaN scales, ``|q| >= 2**31``, mismatched shapes.
        """
        shape = tuple(y.shape)
        s, m = self._inputs(shape, scales, means)
        y = torch.as_tensor(y).detach()
        # the same float operations as forward() in eval mode, so y_hat matches it exactly
        q = to_numpy(torch.round(y - torch.as_tensor(means, device=y.device)) if means is not None else torch.round(y))
        if not np.isfinite(q).all():
            raise InputError("latents must be finite")
        encode_indexed(enc, q.reshape(-1).astype(np.int64), scale_index(s).reshape(-1), self.tables)
        return self._dequantize(q, means, y)

    def decode(self, dec: Decoder, scales: torch.Tensor, means: torch.Tensor | None = None) -> torch.Tensor:
        """Decodes latents written by :meth:`encode` with the same scales and means.

        Returns:
            ``y_hat = q + means``, shaped like ``scales``, with their device and float dtype.
        """
        shape = tuple(scales.shape)
        s, _ = self._inputs(shape, scales, means)
        q = decode_indexed(dec, scale_index(s).reshape(-1), self.tables).reshape(shape).astype(np.float64)
        return self._dequantize(q, means, scales)

    @staticmethod
    def _dequantize(q: np.ndarray, means, like) -> torch.Tensor:
        """``q + means`` as a tensor with ``like``'s device and float dtype (float32 if ``like`` is not float)."""
        like = torch.as_tensor(like)
        dtype = like.dtype if like.is_floating_point() else torch.float32
        out = torch.from_numpy(np.asarray(q)).to(device=like.device, dtype=dtype)
        if means is not None:
            out = out + torch.as_tensor(means, device=like.device).to(dtype)
        return out

    def compress(
        self,
        y: torch.Tensor,
        scales: torch.Tensor,
        means: torch.Tensor | None = None,
        coder: str | int = "constriction",
    ) -> bytes:
        """``y`` in a stream of its own (the coder is not recorded: the caller keeps it)."""
        enc = get_coder(coder).encoder()
        self.encode(enc, y, scales, means)
        return enc.finish()

    def decompress(
        self, data: bytes, scales: torch.Tensor, means: torch.Tensor | None = None, coder: str | int = "constriction"
    ) -> torch.Tensor:
        """Inverse of :meth:`compress`."""
        dec = get_coder(coder).decoder(data)
        y_hat = self.decode(dec, scales, means)
        dec.finish()
        return y_hat
