"""Factorized prior: a learned, non-parametric density per channel (Ballé et al., "Variational image compression
with a scale hyperprior", ICLR 2018, appendix 6.1).

Each channel's cumulative distribution is ``sigmoid(f(x))`` with ``f`` a chain of tiny affine maps
``x -> softplus(H) x + b`` (positive weights) and, between them, ``x -> x + tanh(a) * tanh(x)`` (``tanh(a) > -1``),
so ``f`` is increasing. The probability of the integer ``k`` is the mass of ``[k - 0.5, k + 0.5]``.

Integer tables (buffers ``table_*``, one table per channel, escape symbol last) are rebuilt from the parameters
whenever these change: when the module turns to eval mode, when the state dict is saved, and lazily before coding.
A sha256 of the parameters (buffer ``table_fingerprint``) says which parameters the tables belong to; tables loaded
with matching parameters are kept as they are, so a decoder never recomputes the encoder's tables. Building them
uses numpy float64 (single-threaded: thread count has no effect) and :func:`~omnicodec.entropy.tables.quantize_probs`.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError, ModelError
from .coder import Decoder, Encoder, get_coder
from .table_buffers import TableBuffers, lower_bound
from .table_set import TableSet, decode_indexed, encode_indexed
from .tables import PROB_BITS, quantize_probs, to_numpy

__all__ = ["FactorizedPrior"]

_SEARCH_BOUND = float(1 << 20)  # quantiles are searched in [-2**20, 2**20]
_MIN_ENTRY = 2.0**-PROB_BITS  # table ends with less mass than this go to the escape


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class FactorizedPrior(TableBuffers):
    """Learned per-channel density for latents ``y`` of shape ``(B, C, *spatial)``; channel axis 1.

    Args:
        channels: number of channels ``C``.
        filters: widths of the hidden layers of each channel's cumulative function.
        init_scale: initial spread of the density (in quantisation steps).
        tail_mass: probability left outside the range searched for each table; the table's end entries with less
            than ``2**-16`` are then trimmed too (both go to the escape symbol).
        max_width: most values a channel's table codes directly; wider densities escape more often.
        likelihood_bound: smallest likelihood returned by :meth:`forward`.
    """

    def __init__(
        self,
        channels: int,
        filters: tuple[int, ...] = (3, 3, 3),
        init_scale: float = 10.0,
        tail_mass: float = 1e-9,
        max_width: int = 2047,
        likelihood_bound: float = 1e-9,
    ) -> None:
        super().__init__()
        if channels < 1 or not filters or min(filters) < 1 or not 0 < tail_mass < 0.5 or max_width < 1:
            raise InputError("FactorizedPrior needs channels >= 1, non-empty positive filters, 0 < tail_mass < 0.5")
        self.channels = int(channels)
        self.filters = tuple(int(f) for f in filters)
        self.tail_mass = float(tail_mass)
        self.max_width = int(max_width)
        self.likelihood_bound = float(likelihood_bound)
        dims = (1, *self.filters, 1)
        scale = init_scale ** (1.0 / (len(self.filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(self.filters) + 1):
            init = math.log(math.expm1(1.0 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(self.filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))
        self._init_table_buffers(channels)
        self.register_buffer("table_fingerprint", torch.zeros(32, dtype=torch.uint8))

    # --- the density ------------------------------------------------------------------------------------------

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)`` per channel: ``x`` of shape ``(C, 1, N)`` -> ``(C, 1, N)``."""
        for i, matrix in enumerate(self.matrices):
            x = torch.matmul(F.softplus(matrix), x) + self.biases[i]
            if i < len(self.factors):
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def _likelihood(self, v: torch.Tensor) -> torch.Tensor:
        lower = self._logits(v - 0.5)
        upper = self._logits(v + 0.5)
        sign = -torch.sign(lower + upper).detach()  # evaluate in the tail where sigmoid is accurate
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantises (uniform noise when training, rounding in eval mode) and returns likelihoods.

        Args:
            y: ``(B, C, *spatial)`` float latents.

        Returns:
            ``(y_hat, likelihoods)``, both shaped like ``y``; likelihoods in ``(0, 1]``, lower-bounded.
        """
        self._check_shape(tuple(y.shape))
        if self.training:
            y_hat = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        else:
            y_hat = torch.round(y)
        perm = (1, 0, *range(2, y.dim()))
        v = y_hat.permute(perm).reshape(self.channels, 1, -1)
        lik = self._likelihood(v).reshape(y_hat.permute(perm).shape).permute(perm)
        return y_hat, lower_bound(lik, self.likelihood_bound)

    # --- tables -------------------------------------------------------------------------------------------------

    def _fingerprint(self) -> bytes:
        """sha256 of the parameter values (as float64, so a dtype cast that keeps the values keeps the tables).

        The constructor's options are left out on purpose: tables loaded with matching parameters are the
        encoder's, and stay authoritative even if the decoder's model was built with other options.
        """
        h = hashlib.sha256(b"FactorizedPrior/1")
        for p in self.parameters():
            h.update(p.detach().cpu().numpy().astype("<f8").tobytes())
        return h.digest()

    def _np_logits(self, x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> np.ndarray:
        """``f`` in numpy float64 with a fixed order of operations: ``x`` ``(C, N)`` -> ``(C, N)``."""
        h = x[:, None, :]
        for weight, bias, factor in layers:
            acc = weight[:, :, 0:1] * h[:, 0:1, :]
            for j in range(1, weight.shape[2]):
                acc = acc + weight[:, :, j : j + 1] * h[:, j : j + 1, :]
            h = acc + bias
            if factor is not None:
                h = h + factor * np.tanh(h)
        return h[:, 0, :]

    def build_tables(self) -> TableSet:
        """Computes the integer tables from the current parameters (does not store them).

        Raises:
            ModelError: non-finite parameters.
        """

        def arr(p: torch.Tensor) -> np.ndarray:
            return p.detach().cpu().numpy().astype(np.float64)

        weights, biases, factors = [[arr(p) for p in group] for group in (self.matrices, self.biases, self.factors)]
        if not all(np.isfinite(a).all() for a in (*weights, *biases, *factors)):
            raise ModelError("FactorizedPrior has non-finite parameters")
        layers = [
            (_softplus(w), b, np.tanh(factors[i]) if i < len(factors) else None)
            for i, (w, b) in enumerate(zip(weights, biases, strict=True))
        ]
        c = self.channels
        target = math.log(self.tail_mass / 2) - math.log1p(-self.tail_mass / 2)  # logit of tail_mass / 2

        def solve(value: float) -> np.ndarray:  # bisection for f(x) = value, all channels at once
            a = np.full(c, -_SEARCH_BOUND)
            b = np.full(c, _SEARCH_BOUND)
            for _ in range(64):
                mid = 0.5 * (a + b)
                below = self._np_logits(mid[:, None], layers)[:, 0] < value
                a = np.where(below, mid, a)
                b = np.where(below, b, mid)
            return 0.5 * (a + b)

        x_lo, x_hi, median = solve(target), solve(-target), solve(0.0)
        lo = np.floor(x_lo + 0.5).astype(np.int64)
        hi = np.maximum(np.ceil(x_hi - 0.5).astype(np.int64), lo)
        wide = hi - lo + 1 > self.max_width
        lo = np.where(wide, np.floor(median + 0.5).astype(np.int64) - self.max_width // 2, lo)
        hi = np.where(wide, lo + self.max_width - 1, hi)
        width = hi - lo + 1
        grid = lo[:, None] + np.arange(int(width.max()))[None, :]  # (C, Wmax), padded beyond each width
        lower = self._np_logits(grid - 0.5, layers)
        upper = self._np_logits(grid + 0.5, layers)
        sign = -np.sign(lower + upper)
        pmf = np.abs(_sigmoid(sign * upper) - _sigmoid(sign * lower))
        tail = _sigmoid(lower[:, 0]) + _sigmoid(-upper[np.arange(c), width - 1])
        freqs, starts, first = [], [0], np.zeros(c, dtype=np.int64)
        for ch in range(c):  # one quantisation per channel table (not per symbol)
            p = pmf[ch, : width[ch]]
            # Trim end entries below one table unit: each would cost a whole unit of 2**-16 while holding less.
            keep = np.flatnonzero(p >= _MIN_ENTRY)
            a, b = (keep[0], keep[-1] + 1) if keep.size else (int(np.argmax(p)), int(np.argmax(p)) + 1)
            row = quantize_probs(np.append(p[a:b], tail[ch] + p[:a].sum() + p[b:].sum()))
            freqs.append(row)
            starts.append(starts[-1] + row.shape[0])
            first[ch] = a
        return TableSet(np.concatenate(freqs), np.asarray(starts, dtype=np.int64), lo + first)

    def update_tables(self, force: bool = False) -> bool:
        """Rebuilds the tables if the parameters changed since they were built (or if ``force``).

        Returns:
            whether the tables were rebuilt. Callers never need this: coding calls it.
        """
        fingerprint = self._fingerprint()
        if not force and bytes(self.table_fingerprint.cpu().numpy()) == fingerprint:
            return False
        with torch.no_grad():
            self._set_tables(self.build_tables())
            self.table_fingerprint = torch.tensor(list(fingerprint), dtype=torch.uint8, device=self.table_lo.device)
        return True

    @property
    def tables(self) -> TableSet:
        """The current integer tables (rebuilt first if stale)."""
        self.update_tables()
        return self._current_tables()

    def _table_keys(self) -> tuple[str, ...]:
        return (*super()._table_keys(), "table_fingerprint")

    def _tables_missing(self) -> None:
        self.table_fingerprint.zero_()

    def train(self, mode: bool = True) -> FactorizedPrior:
        super().train(mode)
        if not mode:
            self.update_tables()
        return self

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        self.update_tables()
        super()._save_to_state_dict(destination, prefix, keep_vars)

    # --- coding -------------------------------------------------------------------------------------------------

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        if len(shape) < 2 or shape[1] != self.channels:
            raise InputError(f"expected (B, {self.channels}, ...) latents, got shape {shape}")

    def _index(self, shape: tuple[int, ...]) -> np.ndarray:
        per_channel = math.prod(shape) // self.channels
        return np.repeat(np.arange(self.channels, dtype=np.int16), per_channel)

    def encode(self, enc: Encoder, y: torch.Tensor) -> torch.Tensor:
        """Rounds ``y`` and codes it; every integer is lossless (tails through the escape).

        Args:
            enc: an encoder.
            y: ``(B, C, *spatial)`` float latents (any device), ``|round(y)| < 2**31``.

        Returns:
            ``y_hat = round(y)``, float, shaped and placed like ``y``.
        """
        self._check_shape(tuple(y.shape))
        y_hat = torch.round(y.detach())
        v = to_numpy(y_hat)
        if not np.isfinite(v).all():
            raise InputError("latents must be finite")
        values = np.moveaxis(v, 1, 0).reshape(-1).astype(np.int64)
        encode_indexed(enc, values, self._index(tuple(y.shape)), self.tables)
        return y_hat

    def decode(self, dec: Decoder, shape: tuple[int, ...]) -> torch.Tensor:
        """Decodes latents written by :meth:`encode`.

        Args:
            dec: a decoder.
            shape: ``(B, C, *spatial)`` as encoded.

        Returns:
            ``y_hat`` float32 on the module's device.
        """
        shape = tuple(int(s) for s in shape)
        self._check_shape(shape)
        values = decode_indexed(dec, self._index(shape), self.tables)
        v = np.moveaxis(values.reshape(shape[1], shape[0], *shape[2:]), 0, 1)
        return torch.from_numpy(v.astype(np.float32)).to(self.table_lo.device)

    def compress(self, y: torch.Tensor, coder: str | int = "constriction") -> bytes:
        """``y`` in a stream of its own (the coder is not recorded: the caller keeps it)."""
        enc = get_coder(coder).encoder()
        self.encode(enc, y)
        return enc.finish()

    def decompress(self, data: bytes, shape: tuple[int, ...], coder: str | int = "constriction") -> torch.Tensor:
        """Inverse of :meth:`compress`."""
        dec = get_coder(coder).decoder(data)
        y_hat = self.decode(dec, shape)
        dec.finish()
        return y_hat
