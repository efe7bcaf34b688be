"""The angular-spatial blending network: how much each warped reference counts, per 8 x 8 block of a view.

A view is predicted from up to :data:`~.order.MAX_REFS` decoded views, each warped onto it by the disparity map.
Where the scene is simple their plain distance-weighted mean is best (it also averages noise); at occlusions some
references see what the target sees and others do not. The network looks at every (block, reference) pair and
gives each reference a weight per block.

Input features per block and reference (integers, :func:`block_features`): the reference's disagreement with the
distance-weighted blend, its disagreement with the median of the references, the disparity's slope along the
reference's direction (which side of a depth edge it looks from), the block's texture, and the reference's
squared angular distance. Layers alternate between the **spatial** plane (3 x 3 convolutions over the blocks of
one warped reference, shared by all references) and the **angular** plane (at each block, every reference's
features mixed with the sum over the references: a permutation-equivariant layer over the angular samples). The
output logits become integer weights through an exponential table, normalised to 64 with integer division.

Exactness: weights are integers with scale ``2**-W_EXP``, activations integers ``0 .. ACT_MAX`` with scale
``2**-ACT_EXP``; every accumulator stays below ``2**53``, so the float64 evaluation (:meth:`BlendNet.exact`) gives
the same integers on any machine, thread count and device. Training (:meth:`BlendNet.forward`) runs the same
arithmetic in float32 with straight-through rounding and a softmax.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..entropy.ste import round_ste

__all__ = ["BlendNet", "block_features", "BLOCK", "FEATURES", "W_EXP", "ACT_EXP", "weights_from_logits"]

BLOCK = 8
"""Pixels per weight block side."""
FEATURES = 5
W_EXP = 8
ACT_EXP = 4
ACT_MAX = (1 << 12) - 1
W_MAX = (1 << 15) - 1
FEATURE_MAX = 1 << 12
LOGIT_EXP = 4
"""Logits are integers in 1/16."""
_EXP_STEPS = 256
#: ``round(2**16 * exp(-i / 16))`` for ``i = 0 .. 255``: the integer exponential of (max logit - logit).
EXP_TABLE = np.array([int(round(65536 * np.exp(-i / 16.0))) for i in range(_EXP_STEPS)], dtype=np.int64)


def _block_sum(x: np.ndarray) -> np.ndarray:
    """``(..., H, W)`` -> ``(..., ceil(H/4), ceil(W/4))`` sums (zero padding)."""
    h, w = x.shape[-2:]
    hb, wb = -(-h // BLOCK), -(-w // BLOCK)
    pad = [(0, 0)] * (x.ndim - 2) + [(0, hb * BLOCK - h), (0, wb * BLOCK - w)]
    if hb * BLOCK != h or wb * BLOCK != w:
        x = np.pad(x, pad)
    rows = np.add.reduceat(x, np.arange(0, wb * BLOCK, BLOCK), axis=-1)  # sums along rows first: contiguous
    return np.add.reduceat(rows, np.arange(0, hb * BLOCK, BLOCK), axis=-2)


def _lower_median(y: np.ndarray) -> np.ndarray:
    """``np.sort(y, axis=0)[(K - 1) // 2]`` for ``K`` = 3 or 4 by minima and maxima (no sort), else by sorting."""
    if len(y) == 3:
        a, b, c = y
        return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    if len(y) == 4:  # the second smallest of four
        a, b, c, d = y
        low, high = np.maximum(np.minimum(a, b), np.minimum(c, d)), np.minimum(np.maximum(a, b), np.maximum(c, d))
        return np.minimum(low, high)
    return np.sort(y, axis=0)[(len(y) - 1) // 2]


def block_features(warps: np.ndarray, base: np.ndarray, disparity: np.ndarray,
                   offsets: list[tuple[int, int]]) -> np.ndarray:
    """Integer features ``(K, FEATURES, Hb, Wb)`` int64 of ``K`` warped references.

    Args:
        warps: ``(K, H, W, 3)`` int64 warped references, 64 times the sample values (:func:`~.warp.warp_view`).
        base: ``(K,)`` integer distance weights (sum 64, :func:`~.warp.blend_weights`).
        disparity: ``(H, W)`` int64 target disparity (1/8 pixel per view step).
        offsets: each reference's ``(du, dv)``, its position minus the target's.
    """
    k = warps.shape[0]
    y = warps[..., 0] + 2 * warps[..., 1] + warps[..., 2]  # (K, H, W), 256 x luma
    blend = (np.tensordot(base, y, axes=1) + 32) >> 6
    med = _lower_median(y) if k > 2 else blend
    area = BLOCK * BLOCK * 256
    dis_blend = _block_sum(np.abs(y - blend)) // area
    dis_med = _block_sum(np.abs(y - med)) // area
    gy = np.zeros_like(disparity)
    gx = np.zeros_like(disparity)
    gy[1:-1] = disparity[2:] - disparity[:-2]
    gx[:, 1:-1] = disparity[:, 2:] - disparity[:, :-2]
    slope = np.stack([_block_sum(gy * du + gx * dv) // (BLOCK * BLOCK) for du, dv in offsets])
    ty = np.zeros_like(blend)
    ty[:, 1:] = np.abs(np.diff(blend, axis=1))
    texture = _block_sum(ty) // area
    dist = np.array([du * du + dv * dv for du, dv in offsets], dtype=np.int64)
    hb, wb = dis_blend.shape[-2:]
    out = np.stack([dis_blend, dis_med, slope, np.broadcast_to(texture, (k, hb, wb)),
                    np.broadcast_to(dist[:, None, None] * 16, (k, hb, wb))], axis=1)
    return np.clip(out, -FEATURE_MAX, FEATURE_MAX).astype(np.int64)


def weights_from_logits(logits: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Integer blend weights ``(K, Hb, Wb)`` summing to 64 per block from integer logits (1/16 units).

    ``e_k = EXP_TABLE[min(max_logit - logit_k, 255)]``; ``w_k = floor(64 e_k / sum e)``, the remainder to the
    largest weight (the first on ties). All integers.
    """
    lg = np.asarray(logits, dtype=np.int64)
    if valid is not None:
        lg = np.where(valid[:, None, None], lg, np.iinfo(np.int64).min // 4)
    gap = np.minimum(lg.max(axis=0, keepdims=True) - lg, _EXP_STEPS - 1)
    e = EXP_TABLE[gap]
    if valid is not None:
        e = np.where(valid[:, None, None], e, 0)
    w = (64 * e) // e.sum(axis=0, keepdims=True)
    top = np.argmax(w, axis=0)
    rest = 64 - w.sum(axis=0)
    np.put_along_axis(w, top[None], np.take_along_axis(w, top[None], axis=0) + rest[None], axis=0)
    return w


class BlendNet(nn.Module):
    """``features (K, FEATURES, Hb, Wb)`` -> logits ``(K, Hb, Wb)`` (integers in 1/16 after :meth:`exact`).

    Args:
        width: channels of the hidden layers.
    """

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.width = width
        self.inp = nn.Conv2d(FEATURES, width, 1)
        self.spatial1 = nn.Conv2d(width, width, 3, padding=1)
        self.ang1_self = nn.Conv2d(width, width, 1)
        self.ang1_sum = nn.Conv2d(width, width, 1, bias=False)
        self.spatial2 = nn.Conv2d(width, width, 3, padding=1)
        self.ang2_self = nn.Conv2d(width, width, 1)
        self.ang2_sum = nn.Conv2d(width, width, 1, bias=False)
        self.out = nn.Conv2d(width, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    # fixed point ------------------------------------------------------------------------------------------------

    @staticmethod
    def _qw(w: torch.Tensor, exact: bool) -> torch.Tensor:
        s = w * (1 << W_EXP)
        return torch.clamp(torch.round(s) if exact else round_ste(s), -W_MAX, W_MAX)

    @staticmethod
    def _act(acc: torch.Tensor, exp: int, exact: bool) -> torch.Tensor:
        """Accumulator at scale ``2**-(exp)`` -> activation at ``2**-ACT_EXP``, round half up, ReLU with a ceiling."""
        shift = float(1 << (exp - ACT_EXP))
        a = torch.floor(acc / shift + 0.5) if exact else round_ste(acc / shift)
        return torch.clamp(a, 0, ACT_MAX)

    def _conv(self, layer: nn.Conv2d, x: torch.Tensor, x_exp: int, exact: bool) -> tuple[torch.Tensor, int]:
        w = self._qw(layer.weight, exact).to(x.dtype)
        exp = x_exp + W_EXP
        b = None
        if layer.bias is not None:
            bs = layer.bias * (1 << exp)
            b = (torch.round(bs) if exact else round_ste(bs)).to(x.dtype)
        return F.conv2d(x, w, b, padding=layer.padding), exp

    def _angular(self, own: nn.Conv2d, total: nn.Conv2d, x: torch.Tensor, mask: torch.Tensor, exact: bool):
        a, exp = self._conv(own, x, ACT_EXP, exact)
        s = (x * mask).sum(dim=0, keepdim=True)
        b, _ = self._conv(total, s, ACT_EXP, exact)
        return self._act(a + b, exp, exact)

    def _run(self, feats: torch.Tensor, mask: torch.Tensor, exact: bool) -> torch.Tensor:
        x = feats  # integer features, scale 1 (exponent 0)
        h, exp = self._conv(self.inp, x, 0, exact)
        h = self._act(h, exp, exact)
        h, exp = self._conv(self.spatial1, h, ACT_EXP, exact)
        h = self._act(h, exp, exact)
        h = self._angular(self.ang1_self, self.ang1_sum, h, mask, exact)
        h, exp = self._conv(self.spatial2, h, ACT_EXP, exact)
        h = self._act(h, exp, exact)
        h = self._angular(self.ang2_self, self.ang2_sum, h, mask, exact)
        logit, exp = self._conv(self.out, h, ACT_EXP, exact)
        shift = float(1 << (exp - LOGIT_EXP))
        lg = torch.floor(logit / shift + 0.5) if exact else round_ste(logit / shift)
        return torch.clamp(lg, -(1 << 15), 1 << 15)[:, 0]

    def forward(self, feats: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Training: float32 features ``(K, F, Hb, Wb)``, mask ``(K, 1, 1, 1)`` -> softmax weights ``(K, Hb, Wb)``."""
        lg = self._run(feats, mask, exact=False) / (1 << LOGIT_EXP)
        lg = lg.masked_fill(mask[:, 0] == 0, -1e4)
        return torch.softmax(lg, dim=0)

    @torch.no_grad()
    def exact(self, feats: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """The decoder's path: integer features -> integer weights ``(K, Hb, Wb)`` summing to 64 (float64, exact)."""
        x = torch.from_numpy(np.asarray(feats, dtype=np.float64))
        mask = torch.from_numpy(np.asarray(valid, dtype=np.float64))[:, None, None, None]
        lg = self._run(x, mask, exact=True).numpy().astype(np.int64)
        return weights_from_logits(lg, np.asarray(valid, dtype=bool))

    def check_exact_bounds(self) -> None:
        """Raise if an accumulator could reach ``2**53`` (the float64 path would no longer be exact)."""
        bound = float(FEATURE_MAX)
        for layer in (self.inp, self.spatial1, self.ang1_self, self.spatial2, self.ang2_self, self.out):
            fan = layer.weight[0].numel()
            worst = fan * W_MAX * max(bound, ACT_MAX) * 4
            if worst >= 2.0**53:
                raise ValueError("blend network accumulators could exceed 2**53")
            bound = ACT_MAX
