"""The "minkowski" backend gives the torch backend's outputs and gradients for the same weights."""

from __future__ import annotations

import pytest
import torch

from omnicodec.sparse import SparseTensor, minkowski_available, use_backend
from omnicodec.sparse import functional as F

from .helpers import random_cloud

pytestmark = pytest.mark.skipif(
    not minkowski_available(), reason="MinkowskiEngine is not installed (tools/install_minkowski.sh builds it)"
)
TOL = {"rtol": 1e-5, "atol": 1e-5}


def weight(k: int, c_in: int, c_out: int) -> torch.Tensor:
    """A (k, c_in, c_out) weight scaled like a trained layer's, so that activations stay O(1) in float32."""
    return torch.randn(k, c_in, c_out) / (k * c_in) ** 0.5


def assert_backends_agree(fn, x: SparseTensor, *params: torch.Tensor):
    """fn(x, *params) on both backends: outputs and gradients of (features, *params) for a fixed upstream grad."""
    results = []
    for name in ("torch", "minkowski"):
        xs = SparseTensor(x.coordinates, x.features.clone().requires_grad_(True), x.tensor_stride)
        ps = [p.clone().requires_grad_(True) for p in params]
        with use_backend(name):
            y = fn(xs, *ps)
        g = torch.linspace(-1, 1, y.features.numel()).reshape(y.features.shape)
        (y.features * g).sum().backward()
        results.append((y, [xs.features.grad] + [p.grad for p in ps]))
    (yt, gt), (ym, gm) = results
    assert torch.equal(yt.coordinates, ym.coordinates) and yt.tensor_stride == ym.tensor_stride
    torch.testing.assert_close(ym.features, yt.features, **TOL)
    for a, b in zip(gm, gt, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize(("kernel", "dilation", "stride"), [(3, 1, 1), (5, 1, 2), (3, 2, 1)])
def test_submanifold(kernel, dilation, stride):
    x = random_cloud(400, 10, seed=kernel, stride=stride, channels=4)
    w, b = weight(kernel**3, 4, 5), torch.randn(5)
    assert_backends_agree(lambda t, ww, bb: F.conv3d(t, ww, bb, dilation=dilation), x, w, b)


@pytest.mark.parametrize(("kernel", "tensor_stride"), [(2, 1), (2, 4), (3, 1), (3, 2)])
def test_strided(kernel, tensor_stride):
    x = random_cloud(400, 10, seed=kernel + tensor_stride, stride=tensor_stride, low=-5, channels=4)
    assert_backends_agree(lambda t, ww: F.conv3d(t, ww, stride=2), x, weight(kernel**3, 4, 3))


@pytest.mark.parametrize("tensor_stride", [2, 8])
def test_generative_transpose(tensor_stride):
    x = random_cloud(200, 8, seed=tensor_stride, stride=tensor_stride, low=-3, channels=4)
    assert_backends_agree(F.generative_transpose_conv3d, x, weight(8, 4, 3), torch.randn(3))


def test_pruning_and_a_small_network():
    x = random_cloud(600, 12, seed=21, channels=4)
    w1, w2, w3, w4 = weight(27, 4, 8), weight(8, 8, 8), weight(27, 8, 8), weight(8, 8, 2)

    def net(t, a, b, c, d):
        y = F.relu(F.conv3d(t, a))
        y = F.conv3d(y, b, stride=2)
        y = F.relu(F.conv3d(y, c))
        y = F.generative_transpose_conv3d(y, d)
        y = F.prune(y, y.coordinates.sum(dim=1) % 3 != 0)  # a mask that cannot differ between backends
        return F.prune_to(y, x)

    assert_backends_agree(net, x, w1, w2, w3, w4)


def test_batched():
    a, b = random_cloud(300, 8, seed=1, channels=3), random_cloud(300, 8, seed=2, channels=3)
    x = SparseTensor.collate([(a.coordinates, a.features), (b.coordinates, b.features)])
    assert_backends_agree(lambda t, w, w2: F.conv3d(F.conv3d(t, w), w2, stride=2), x, weight(27, 3, 4), weight(8, 4, 2))
