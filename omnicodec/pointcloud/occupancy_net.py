"""The learned occupancy model: a small integer network, trained with fake quantisation, run exactly.

For pass ``i`` of a level (child ``i`` of every occupied parent, see :mod:`.child_context`), the probability that
the child is occupied comes from:

* **coarser-level features** -- two 3x3x3 sparse convolutions over the parent level (the parents' neighbour table
  is the kernel map; the input of a parent is the one-hot index of its own position in its parent), so each
  parent sees the occupied parents of the 5x5x5 block around it;
* **child-level states** -- the 124 voxels of the 5x5x5 block around the child, each empty, occupied or unknown,
  which includes the siblings and the children of neighbouring parents decoded in earlier passes;
* the existence of the parent's 26 neighbours, the pass and the level (counted from the finest);
* **an adaptive term** -- the probability that the baseline context model's integer counts
  (:mod:`.occupancy_coder`) give the bit, bucketed, and how many bits that context has seen: a learned table turns
  the pair into a logit offset, so the model follows statistics the training data did not have.

Exactness. Weights are integers with a power-of-two scale, activations are integers 0..127 with a power-of-two
scale, and every accumulator stays below 2**24 in magnitude (checked when the model loads), so the float32 matrix
products are exact whatever the summation order: any thread count and any device give the same integers. The
final logit is an integer that indexes a stored table of 16-bit probabilities. Training runs the same arithmetic
with rounding in the forward pass and straight-through gradients.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

import numpy as np
import torch

from ..entropy import PROB_BITS
from ..entropy.ste import round_ste
from ..errors import ModelError
from .child_context import BLOCK_DELTAS, OCCUPIED, UNKNOWN

__all__ = [
    "NetConfig",
    "OccupancyNet",
    "IntOccupancyNet",
    "count_bucket",
    "N_COUNT_BUCKETS",
    "load_model_bytes",
    "save_model_bytes",
    "binary_inputs",
    "binary_inputs_torch",
    "bucket_logit",
]

_N_BLOCK = len(BLOCK_DELTAS)
_ACT_MAX = 127
_W_MAX = 127
_EXACT_LIMIT = 1 << 24
_LOGIT_CLAMP = 14.0  # |logit| beyond this is clamped (p within 1e-6 of 0 or 1)
_TABLE_STEP_LOG2 = 3  # the probability table has one entry per 2**3 logit units

# Adaptive-count buckets: the count model's probability of a one (16-bit) against fixed thresholds, and the
# number of bits the context has seen (bit length of the total, capped).
_P_THRESHOLDS = np.array(
    [int(round((1 << PROB_BITS) / (1.0 + np.exp(-t)))) for t in np.arange(-6.0, 6.01, 0.5)], dtype=np.int64
)
_N_P = len(_P_THRESHOLDS) + 1
_N_TOTAL = 8
N_COUNT_BUCKETS = _N_P * _N_TOTAL


def count_bucket(count_freqs: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """(R,) int64 bucket of the adaptive-count term.

    Args:
        count_freqs: (R, 2) integer frequency tables from the count model.
        totals: (R,) integer number of bits the context has seen (sum of its counts).
    """
    p = np.searchsorted(_P_THRESHOLDS, np.asarray(count_freqs)[:, 1], side="right")
    n = np.minimum(np.frexp(np.asarray(totals, dtype=np.float64) + 1.0)[1] - 1, _N_TOTAL - 1)
    return p * _N_TOTAL + n.astype(np.int64)


@dataclass(frozen=True)
class NetConfig:
    """Sizes and fixed-point exponents (scale = 2**-exp) of the network."""

    parent_channels: int = 16
    hidden: int = 64
    hidden2: int = 32
    levels: int = 8  # level classes: 0 = finest, ..., levels-1 = that or coarser
    learned_levels: int = 7  # levels (from the finest) coded with the network; coarser ones use counts only
    w_exp: int = 5
    act_exp: int = 3
    bias_exp: int = 10
    logit_exp: int = 8  # unit of the integer logit

    @property
    def n_inputs(self) -> int:
        return 2 * _N_BLOCK + 26 + 8 + self.levels


# ---------------------------------------------------------------------------------------------------------------
# Training model (fake quantisation)


def _q(x: torch.Tensor, exp: int, lo: float, hi: float) -> torch.Tensor:
    """x rounded to multiples of 2**-exp within [lo, hi] (in integer units), gradient passed straight through."""
    return torch.clamp(round_ste(x * (1 << exp)), lo, hi) / (1 << exp)


class OccupancyNet(torch.nn.Module):
    """The trainable network; :meth:`export` gives the integer arrays :class:`IntOccupancyNet` runs."""

    def __init__(self, config: NetConfig | None = None) -> None:
        super().__init__()
        c = self.config = config or NetConfig()
        pc, h, h2 = c.parent_channels, c.hidden, c.hidden2

        def param(*shape, fan_in):
            return torch.nn.Parameter(torch.randn(*shape) * (0.5 / fan_in**0.5))

        self.pconv1 = param(27 * 8, pc, fan_in=27)
        self.pb1 = torch.nn.Parameter(torch.zeros(pc))
        self.pconv2 = param(27 * pc, pc, fan_in=27 * pc)
        self.pb2 = torch.nn.Parameter(torch.zeros(pc))
        self.w1 = param(c.n_inputs, h, fan_in=60)
        self.wp = param(pc, h, fan_in=pc)
        self.b1 = torch.nn.Parameter(torch.zeros(h))
        self.w2 = param(h, h2, fan_in=h)
        self.b2 = torch.nn.Parameter(torch.zeros(h2))
        self.w3 = param(h2, 1, fan_in=h2)
        self.wc = torch.nn.Parameter(torch.zeros(N_COUNT_BUCKETS))
        self.b3 = torch.nn.Parameter(torch.zeros(()))
        self.wcount = torch.nn.Parameter(torch.tensor(1.0))  # init: the count logit passes through

    def _w(self, w: torch.Tensor) -> torch.Tensor:
        return _q(w, self.config.w_exp, -_W_MAX, _W_MAX)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return _q(x, self.config.act_exp, 0, _ACT_MAX)

    def _bias(self, b: torch.Tensor) -> torch.Tensor:
        return _q(b, self.config.bias_exp, -(1 << 22), 1 << 22)

    def parent_features(self, table: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        """(P, C) parent features.

        Args:
            table: (P, 27) int64 parent neighbour table with the parent itself last, -1 where empty.
            position: (P,) int64 index of each parent within its own parent (0..7).
        """
        n = len(position)
        t = torch.where(table < 0, torch.full_like(table, n), table)

        def conv(x, w):  # the differentiable form of the sparse convolution over the neighbour table
            block = torch.cat([x, x.new_zeros((1, x.shape[1]))])[t].reshape(n, -1)
            return block @ self._w(w)

        x = torch.nn.functional.one_hot(position, 8).float()
        x = self._act(conv(x, self.pconv1) + self._bias(self.pb1))
        return self._act(conv(x, self.pconv2) + self._bias(self.pb2))

    def logits(self, pfeat: torch.Tensor, inputs: torch.Tensor, count_logit: torch.Tensor,
               count_idx: torch.Tensor) -> torch.Tensor:
        """(R,) logits (natural units).

        Args:
            pfeat: (R, C) parent features of each row's parent.
            inputs: (R, n_inputs) binary inputs (:func:`binary_inputs`).
            count_logit: (R,) logit of the count model's probability, bucketed (:func:`bucket_logit`).
            count_idx: (R,) int64 count bucket (:func:`count_bucket`).
        """
        h = self._act(inputs @ self._w(self.w1) + pfeat @ self._w(self.wp) + self._bias(self.b1))
        h = self._act(h @ self._w(self.w2) + self._bias(self.b2))
        le = self.config.logit_exp
        z = h @ self._w(self.w3)
        off = _q(self.wc[count_idx] + self.wcount * count_logit, le, -(1 << 16), 1 << 16)
        return z[:, 0] + off + _q(self.b3, le, -(1 << 16), 1 << 16)

    def export(self) -> dict[str, np.ndarray]:
        """Integer arrays of the model, plus its configuration as JSON bytes."""
        c = self.config

        def wi(w):
            return torch.clamp(torch.floor(w.detach() * (1 << c.w_exp) + 0.5), -_W_MAX, _W_MAX).to(torch.int32).numpy()

        def bi(b, exp):
            return torch.floor(b.detach() * (1 << exp) + 0.5).to(torch.int64).numpy()

        le = c.logit_exp
        # The count term is a table over buckets: wc[bucket] + wcount * (bucket's logit).
        count_term = self.wc.detach() + self.wcount.detach() * torch.from_numpy(_BUCKET_LOGIT).float()
        arrays = dict(
            pconv1=wi(self.pconv1), pb1=bi(self.pb1, c.bias_exp), pconv2=wi(self.pconv2), pb2=bi(self.pb2, c.bias_exp),
            w1=wi(self.w1), wp=wi(self.wp), b1=bi(self.b1, c.bias_exp), w2=wi(self.w2), b2=bi(self.b2, c.bias_exp),
            w3=wi(self.w3), count_term=bi(count_term, le), b3=bi(self.b3.reshape(1), le),
            prob_table=_prob_table(c),
            config=np.frombuffer(json.dumps(c.__dict__, sort_keys=True).encode(), dtype=np.uint8),
        )
        return arrays


def _bucket_logits() -> np.ndarray:
    """(N_COUNT_BUCKETS,) representative logit of each probability bucket (midpoint of its thresholds)."""
    t = np.arange(-6.0, 6.01, 0.5)
    mids = np.concatenate([[t[0] - 0.5], (t[:-1] + t[1:]) / 2, [t[-1] + 0.5]])
    return np.repeat(mids, _N_TOTAL).astype(np.float32)


_BUCKET_LOGIT = _bucket_logits()


def bucket_logit(count_idx: np.ndarray) -> np.ndarray:
    """(R,) float32 representative logit of count buckets (the training input matching the exported table)."""
    return _BUCKET_LOGIT[count_idx]


def _prob_table(c: NetConfig) -> np.ndarray:
    """Frequency of a one (16-bit) for each integer logit, in steps of 2**_TABLE_STEP_LOG2 units."""
    lim = int(_LOGIT_CLAMP * (1 << c.logit_exp)) >> _TABLE_STEP_LOG2
    z = np.arange(-lim, lim + 1, dtype=np.float64) * (1 << _TABLE_STEP_LOG2) / (1 << c.logit_exp)
    one = 1 << PROB_BITS
    return np.clip(np.rint(one / (1.0 + np.exp(-z))), 1, one - 1).astype(np.int32)


def binary_inputs(states: np.ndarray, pexist: np.ndarray, i: int, level: int, levels: int) -> np.ndarray:
    """(P, n_inputs) uint8 binary inputs of pass ``i``.

    Args:
        states: (P, 124) int8 block states (:func:`~.child_context.child_states`).
        pexist: (P, 26) bool, the parent's neighbours that exist.
        i: pass (child index).
        level: level counted from the finest (0 = leaves), capped at ``levels - 1``.
        levels: number of level classes.
    """
    n = len(states)
    out = np.zeros((n, 2 * _N_BLOCK + 26 + 8 + levels), dtype=np.uint8)
    out[:, :_N_BLOCK] = states == OCCUPIED
    out[:, _N_BLOCK: 2 * _N_BLOCK] = states == UNKNOWN
    out[:, 2 * _N_BLOCK: 2 * _N_BLOCK + 26] = pexist
    out[:, 2 * _N_BLOCK + 26 + i] = 1
    out[:, 2 * _N_BLOCK + 34 + min(level, levels - 1)] = 1
    return out


def binary_inputs_torch(states: torch.Tensor, pexist: torch.Tensor, i: torch.Tensor, level: torch.Tensor,
                        levels: int) -> torch.Tensor:
    """(R, n_inputs) float version of :func:`binary_inputs` with a pass and a level per row (for training)."""
    return torch.cat([
        (states == OCCUPIED).float(), (states == UNKNOWN).float(), pexist.float(),
        torch.nn.functional.one_hot(i, 8).float(),
        torch.nn.functional.one_hot(level.clamp(max=levels - 1), levels).float(),
    ], dim=1)


# ---------------------------------------------------------------------------------------------------------------
# Exact inference


class IntOccupancyNet:
    """Runs an exported model with exact integer arithmetic in float32 (see the module notes).

    Attributes:
        config: the network's :class:`NetConfig`.
        sha256: hex digest of the model file, which bitstreams record.
    """

    def __init__(self, arrays: dict[str, np.ndarray], sha256: str = "") -> None:
        try:
            self.config = NetConfig(**json.loads(bytes(arrays["config"]).decode()))
            c = self.config
            f = {k: torch.from_numpy(np.asarray(arrays[k]).astype(np.float32)) for k in
                 ("pconv1", "pb1", "pconv2", "pb2", "w1", "wp", "b1", "w2", "b2", "w3", "count_term", "b3")}
            self.prob_table = np.asarray(arrays["prob_table"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"not an occupancy model: {exc}") from None
        pc, h, h2 = c.parent_channels, c.hidden, c.hidden2
        shapes = dict(pconv1=(27 * 8, pc), pb1=(pc,), pconv2=(27 * pc, pc), pb2=(pc,), w1=(c.n_inputs, h), wp=(pc, h),
                      b1=(h,), w2=(h, h2), b2=(h2,), w3=(h2, 1), count_term=(N_COUNT_BUCKETS,), b3=(1,))
        for k, s in shapes.items():
            if tuple(f[k].shape) != s:
                raise ModelError(f"occupancy model array {k} has shape {tuple(f[k].shape)}, expected {s}")
        if len(self.prob_table) != len(_prob_table(c)):
            raise ModelError("occupancy model probability table has the wrong length")
        self.f = f
        self.sha256 = sha256
        self._check_exact()
        self._block_tables = _block_tables(f["w1"])
        self._count_term = f["count_term"].numpy().astype(np.int64) + int(f["b3"][0])

    def level_term(self, table: np.ndarray, position: np.ndarray) -> torch.Tensor:
        """(P, hidden) integer-valued first-layer term of the parent features, shared by the 8 passes of a level
        (units 2**-(w_exp + act_exp))."""
        return self.parent_features(table, position) @ self.f["wp"]

    @torch.no_grad()
    def pass_logits_keys(self, level_term: torch.Tensor, keys: np.ndarray, i: int, level: int) -> np.ndarray:
        """(P,) int64 logits of pass ``i``, as :meth:`pass_logits` gives them, from neighbour keys.

        The first layer over the binary inputs is a sum over the 27 parents around the child of one table row
        each, looked up by the parent's key (:func:`~.child_context.neighbour_keys`): the same integers as the
        product, fewer operations.

        Args:
            level_term: (P, hidden) from :meth:`level_term`.
            keys: (P, 27) int64 neighbour keys.
            i: pass.
            level: level counted from the finest.
        """
        c, f = self.config, self.f
        base = (i * 27 + np.arange(27)) * 512
        x = torch.nn.functional.embedding_bag(torch.from_numpy(keys + base), self._block_tables, mode="sum")
        const = f["w1"][2 * _N_BLOCK + 26 + i] + f["w1"][2 * _N_BLOCK + 34 + min(level, c.levels - 1)]
        h = self._layer([(level_term.clone(), c.w_exp + c.act_exp), (x.add_(const), c.w_exp)], f["b1"])
        h = self._layer([(h @ f["w2"], c.w_exp + c.act_exp)], f["b2"])
        return (h @ f["w3"])[:, 0].numpy().astype(np.int64)

    def _check_exact(self) -> None:
        """Every accumulator must stay below 2**24 for float32 products to be exact."""
        c, f = self.config, self.f
        a = float(_ACT_MAX)
        sh_in = c.bias_exp - c.w_exp  # input units (binary, scale 1) to the bias units
        bounds = [
            f["pconv1"].abs().sum(0).max() * 1.0 * 2**sh_in + f["pb1"].abs().max(),
            f["pconv2"].abs().sum(0).max() * a * 2 ** (sh_in - c.act_exp) + f["pb2"].abs().max(),
            (f["w1"].abs().sum(0).max() * 2**sh_in + f["wp"].abs().sum(0).max() * a * 2 ** (sh_in - c.act_exp)
             + f["b1"].abs().max()),
            f["w2"].abs().sum(0).max() * a * 2 ** (sh_in - c.act_exp) + f["b2"].abs().max(),
        ]
        if any(float(b) >= _EXACT_LIMIT for b in bounds):
            raise ModelError("occupancy model weights are too large for exact float32 arithmetic")
        if c.w_exp + c.act_exp > c.bias_exp or c.logit_exp != c.w_exp + c.act_exp:
            raise ModelError("occupancy model exponents are inconsistent")

    def _layer(self, terms: list[tuple[torch.Tensor, int]], bias: torch.Tensor) -> torch.Tensor:
        """Activation from integer-valued products ``(acc, exp of its unit)`` and a bias in 2**-bias_exp units.

        The sum is formed in the units of the first term (the finest), where every term and the bias are exact
        multiples of a power of two below 2**24 (checked at load), and consumes the first term's storage.
        """
        c = self.config
        acc, e = terms[0]
        for prod, exp in terms[1:]:
            acc.add_(prod, alpha=float(2.0 ** (e - exp)))
        acc.add_(bias, alpha=float(2.0 ** (e - c.bias_exp)))
        # activation units are 2**-act_exp: scale by a power of two, round half up, clamp.
        return acc.mul_(float(2.0 ** (c.act_exp - e))).add_(0.5).floor_().clamp_(0, _ACT_MAX)

    @torch.no_grad()
    def parent_features(self, table: np.ndarray, position: np.ndarray) -> torch.Tensor:
        """(P, C) integer-valued float32 parent features (see :meth:`OccupancyNet.parent_features`)."""
        from ..sparse.conv_function import gather_matmul

        c, f = self.config, self.f
        n = len(position)
        t = torch.from_numpy(np.where(table < 0, n, table))
        x = torch.nn.functional.one_hot(torch.from_numpy(position.astype(np.int64)), 8).float()
        x = self._layer([(gather_matmul(x, t, f["pconv1"]), c.w_exp)], f["pb1"])
        return self._layer([(gather_matmul(x, t, f["pconv2"]), c.w_exp + c.act_exp)], f["pb2"])

    @torch.no_grad()
    def pass_logits(self, pfeat: torch.Tensor, inputs: np.ndarray) -> np.ndarray:
        """(P,) int64 network logits (units 2**-logit_exp) of one pass, before the adaptive term."""
        c, f = self.config, self.f
        x = torch.from_numpy(inputs).float()
        h = self._layer([(pfeat @ f["wp"], c.w_exp + c.act_exp), (x @ f["w1"], c.w_exp)], f["b1"])
        h = self._layer([(h @ f["w2"], c.w_exp + c.act_exp)], f["b2"])
        return (h @ f["w3"])[:, 0].numpy().astype(np.int64)  # units 2**-(w_exp + act_exp) = 2**-logit_exp

    def freqs(self, logits: np.ndarray, count_idx: np.ndarray) -> np.ndarray:
        """(R, 2) int32 frequency tables from network logits and adaptive-count buckets."""
        z = logits + self._count_term[count_idx]
        lim = len(self.prob_table) // 2
        k = np.clip(z >> _TABLE_STEP_LOG2, -lim, lim) + lim
        f1 = self.prob_table[k]
        out = np.empty((len(z), 2), dtype=np.int32)
        out[:, 1] = f1
        out[:, 0] = (1 << PROB_BITS) - f1
        return out


def _block_tables(w1: torch.Tensor) -> torch.Tensor:
    """(8 * 27 * 512, hidden) first-layer rows: for pass i, parent column c (26 neighbours, then the parent) and
    key ``2 * code + exists`` (``code`` = the child bits coded so far), the sum of the weights of the block voxels
    in that parent plus the weight of its existence."""
    from .child_context import _CHILD, _COLUMN

    w = w1.numpy().astype(np.float64)
    code_bits = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float64)  # (256, 8)
    out = np.zeros((8, 27, 256, 2, w.shape[1]))
    for i in range(8):
        for col in range(27):
            cells = np.flatnonzero(_COLUMN[i] == col)
            known = cells[_CHILD[i, cells] < i]
            unknown = cells[_CHILD[i, cells] >= i]
            occupied = code_bits[:, _CHILD[i, known]] @ w[known]  # (256, H) known occupied voxels
            exists = w[_N_BLOCK + unknown].sum(axis=0) + (w[2 * _N_BLOCK + col] if col < 26 else 0.0)
            out[i, col, :, 1] = occupied + exists
            # a missing parent has no coded bits: only code 0 occurs with exists = 0
    return torch.from_numpy(out.reshape(8 * 27 * 512, -1).astype(np.float32))


def save_model_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The model file (an uncompressed ``.npz``) for exported arrays."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def load_model_bytes(data: bytes) -> IntOccupancyNet:
    """Load a model file written by :func:`save_model_bytes`.

    Raises:
        ModelError: not a model file, or a malformed one.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError) as exc:
        raise ModelError(f"cannot read occupancy model: {exc}") from None
    return IntOccupancyNet(arrays, hashlib.sha256(data).hexdigest())

