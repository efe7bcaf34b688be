"""The lossy geometry autoencoder: three stride-2 stages down to a latent, and a decoder that grows voxels back.

Shapes and units: voxel coordinates are integers on the coded grid (tensor stride 1); the latent lives on the
stride-8 voxels (the parents three levels up), ``L`` channels per voxel.

* Encoder: ``x`` (N, 1) ones at stride 1 -> three times (kernel-2 stride-2 convolution, ReLU, submanifold 3x3x3
  convolution) -> ``y`` (N8, L) at stride 8. The first strided convolution of a one-channel input is a learned
  embedding of each parent's 8-bit occupancy pattern.
* Rate: ``y * gain[g]`` is rounded and coded with factorized prior ``g``; the decoder multiplies by ``inv_gain[g]``.
  One model holds ``G`` gain vectors, one per trained trade-off (``lambdas``).
* Decoder, per scale (stride 8 -> 4 -> 2 -> 1): two submanifold convolutions on the kept voxels, a generative
  transposed convolution making each voxel's 8 children, a per-child classifier (logit of "occupied"), and the
  top-k children kept, k the voxel count at that stride sent in the stream (:func:`top_k`).

Training (:meth:`LossyNet.forward`) keeps the true children instead of the top-k and returns the binary
cross-entropy of each scale and the latent's likelihoods.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from ..entropy.factorized import FactorizedPrior
from ..errors import ModelError
from ..sparse import SparseConv3d, SparseGenerativeTransposeConv3d, SparseTensor
from ..sparse import functional as SF

__all__ = ["LossyConfig", "LossyNet", "top_k", "save_lossy_bytes", "load_lossy_bytes", "SCALES"]

SCALES = 3
"""Stride-2 stages between the coded grid and the latent (latent stride ``2**SCALES``)."""


@dataclass(frozen=True)
class LossyConfig:
    """Sizes of a :class:`LossyNet`.

    Attributes:
        channels: width of the hidden features.
        latent: latent channels ``L``.
        lambdas: the distortion weights the gain vectors were trained for, lowest rate first (``G`` entries).
    """

    channels: int = 24
    latent: int = 8
    lambdas: tuple[float, ...] = field(default=(0.5, 2.0, 8.0, 32.0))

    @property
    def gains(self) -> int:
        return len(self.lambdas)


class _Scale(nn.Module):
    """One decoder scale: two convolutions on the parents, 8 children each, a logit per child."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = SparseConv3d(c, c, 3)
        self.conv2 = SparseConv3d(c, c, 3)
        self.up = SparseGenerativeTransposeConv3d(c, c)
        self.head = nn.Sequential(nn.Linear(c, c), nn.ReLU(), nn.Linear(c, 1))

    def forward(self, parents: SparseTensor) -> tuple[SparseTensor, torch.Tensor]:
        h = SF.relu(self.conv1(parents))
        h = self.conv2(h)
        h = SF.relu(h.replace_features(h.features + parents.features))
        children = SF.relu(self.up(h))
        return children, self.head(children.features).squeeze(1)


class LossyNet(nn.Module):
    """Encoder, per-gain entropy models and decoder of the lossy codec (see the module docstring).

    Attributes:
        sha256: hex digest of the model file it was loaded from (:func:`load_lossy_bytes`), which bitstreams record;
            empty for a network built in memory.
    """

    def __init__(self, config: LossyConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or LossyConfig()
        self.sha256 = ""
        c, lat = cfg.channels, cfg.latent
        self.down = nn.ModuleList(
            [SparseConv3d(1, c, 2, stride=2), SparseConv3d(c, c, 2, stride=2), SparseConv3d(c, c, 2, stride=2)]
        )
        self.enc = nn.ModuleList([SparseConv3d(c, c, 3), SparseConv3d(c, c, 3), SparseConv3d(c, lat, 3)])
        init = torch.linspace(-1.0, 1.0, cfg.gains)[:, None].repeat(1, lat)
        self.log_gain = nn.Parameter(init.clone())
        self.log_inv_gain = nn.Parameter(-init.clone())
        self.priors = nn.ModuleList([FactorizedPrior(lat) for _ in range(cfg.gains)])
        self.dec_in = SparseConv3d(lat, c, 3)
        self.scales = nn.ModuleList([_Scale(c) for _ in range(SCALES)])

    # --- pieces -------------------------------------------------------------------------------------------------

    def analysis(self, x: SparseTensor) -> tuple[SparseTensor, list[SparseTensor]]:
        """Latent ``y`` at stride 8 and the occupied sets at strides 2, 4, 8 (features of the encoder).

        Args:
            x: the voxels at stride 1 with (N, 1) features (ones).
        """
        levels = []
        h = x
        for i in range(SCALES):
            h = SF.relu(self.down[i](h))
            levels.append(h)
            h = self.enc[i](h)
            if i < SCALES - 1:
                h = SF.relu(h)
        return h, levels

    def gain(self, g: int) -> torch.Tensor:
        """(L,) factor applied to ``y`` before rounding at gain index ``g``."""
        return torch.exp(self.log_gain[g])

    def inv_gain(self, g: int) -> torch.Tensor:
        """(L,) factor applied to the decoded integers at gain index ``g``."""
        return torch.exp(self.log_inv_gain[g])

    def synthesis_start(self, y_hat: SparseTensor, g: int) -> SparseTensor:
        """Decoder features at stride 8 from the decoded integers (N8, L)."""
        return SF.relu(self.dec_in(y_hat.replace_features(y_hat.features * self.inv_gain(g))))

    # --- training -----------------------------------------------------------------------------------------------

    def forward(self, x: SparseTensor, g: int) -> dict[str, object]:
        """Training pass with the true children kept at every scale.

        Args:
            x: voxels at stride 1, (N, 1) ones.
            g: gain index.

        Returns:
            ``bce``: list of the mean binary cross-entropy per scale (coarse to fine); ``likelihoods``: (1, L, N8);
            ``accuracy``: share of true voxels among the top-k at the finest scale (detached float).
        """
        y, levels = self.analysis(x)
        z = y.features * self.gain(g)
        z_hat, lik = self.priors[g](z.t().unsqueeze(0))
        h = self.synthesis_start(y.replace_features(z_hat.squeeze(0).t()), g)
        targets = [*levels[:-1][::-1], x]  # stride 4, 2, 1
        bce, accuracy = [], 0.0
        for i, scale in enumerate(self.scales):
            children, logits = scale(h)
            truth = SF.contains(children, targets[i])
            bce.append(nn.functional.binary_cross_entropy_with_logits(logits, truth.float()))
            if i == SCALES - 1:
                with torch.no_grad():
                    k = int(truth.sum())
                    accuracy = float(truth[torch.topk(logits, k).indices].float().mean()) if k else 1.0
            h = SF.prune(children, truth)
        return {"bce": bce, "likelihoods": lik, "accuracy": accuracy}

    # --- coding -------------------------------------------------------------------------------------------------

    @torch.no_grad()
    def encode_latent(self, x: SparseTensor, g: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Encoder side: the stride-8 voxels, the scaled latent and the voxel counts per stride.

        Returns:
            (N8, 3) int64 coordinates at stride 8 (multiples of 8), (N8, L) float32 ``y * gain`` (round before
            coding), and the counts at strides 4, 2, 1.
        """
        y, levels = self.analysis(x)
        counts = [len(levels[1]), len(levels[0]), len(x)]
        z = (y.features * self.gain(g)).float().numpy()
        return y.coordinates.numpy().astype(np.int64), z, counts

    @torch.no_grad()
    def decode_voxels(self, coords8: np.ndarray, q: np.ndarray, counts: list[int], g: int) -> np.ndarray:
        """Decoder side: grow the stride-8 voxels back to ``counts[-1]`` voxels at stride 1.

        Args:
            coords8: (N8, 3) int64 coordinates, multiples of 8.
            q: (N8, L) decoded integers.
            counts: voxels to keep at strides 4, 2, 1.
            g: gain index.

        Returns:
            (counts[-1], 3) int64 coordinates at stride 1.
        """
        y_hat = SparseTensor(torch.from_numpy(coords8), torch.from_numpy(q.astype(np.float32)), 8)
        h = self.synthesis_start(y_hat, g)
        for scale, k in zip(self.scales, counts, strict=True):
            children, logits = scale(h)
            keep = top_k(logits.numpy(), children.keys.numpy(), k)
            mask = torch.zeros(len(children), dtype=torch.bool)
            mask[torch.from_numpy(keep)] = True
            h = SF.prune(children, mask)
        return h.coordinates.numpy().astype(np.int64)


def top_k(logits: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """Rows of the children to keep: the best child of every parent, then the best of the others up to ``k``.

    Every kept voxel has at least one occupied child, so each parent keeps its most probable child first; the
    remaining ``k - N`` places go to the largest logits among the other children. Logits are rounded to 1/4096 and
    ties go to the smaller key, so the choice is reproducible (last-bit differences between thread counts rarely
    matter).

    Args:
        logits: (8N,) logits, parent-major (row ``8r + c`` is child c of parent r).
        keys: (8N,) int64 keys of the children (tie-break).
        k: children to keep, ``N <= k <= 8N``.

    Returns:
        Sorted row indices, ``k`` of them.
    """
    n = len(logits) // 8
    if k >= len(logits):
        return np.arange(len(logits))
    q = np.round(logits.astype(np.float64) * 4096.0)
    best = np.arange(n) * 8 + np.argmax(q.reshape(n, 8), axis=1)
    if k <= n:  # not reachable with valid counts; keep the k best parents' best children
        return np.sort(best[np.lexsort((keys[best], -q[best]))[:k]])
    others = np.ones(len(q), dtype=bool)
    others[best] = False
    rest = np.flatnonzero(others)
    extra = rest[np.lexsort((keys[rest], -q[rest]))[: k - n]]
    return np.sort(np.concatenate([best, extra]))


def save_lossy_bytes(net: LossyNet, extra: dict | None = None) -> bytes:
    """The model as bytes: its config and state dict (entropy tables included)."""
    net.eval()
    for prior in net.priors:
        prior.update_tables()
    buf = io.BytesIO()
    torch.save({"config": asdict(net.config), "state": net.state_dict(), "extra": extra or {}}, buf)
    return buf.getvalue()


def load_lossy_bytes(data: bytes) -> LossyNet:
    """Inverse of :func:`save_lossy_bytes` (``torch.load(..., weights_only=True)``: no pickled code runs); the
    network's ``sha256`` is that of ``data``.

    Raises:
        ModelError: the bytes are not a lossy model.
    """
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        cfg = blob["config"]
        net = LossyNet(LossyConfig(cfg["channels"], cfg["latent"], tuple(float(v) for v in cfg["lambdas"])))
        net.load_state_dict(blob["state"])
    except Exception as exc:  # noqa: BLE001 - any failure means a bad file
        raise ModelError(f"not a lossy point-cloud model ({type(exc).__name__}: {exc})") from None
    net.eval()
    if not all(bool(torch.isfinite(p.detach()).all()) for p in net.parameters()):
        raise ModelError("the lossy model holds non-finite weights")
    net.sha256 = hashlib.sha256(data).hexdigest()
    return net
