from __future__ import annotations

import pytest
import torch

from omnicodec.sparse import SparseTensor, submanifold_map
from omnicodec.sparse import functional as F
from omnicodec.sparse.conv_function import apply_kernel_map

from .helpers import dense_weight, random_cloud, sample_dense, sort_rows, to_dense


@pytest.mark.parametrize(
    ("kernel", "dilation", "stride", "low"), [(3, 1, 1, 0), (3, 1, 2, -3), (5, 1, 1, 0), (3, 2, 1, 0), (1, 1, 1, 0)]
)
def test_submanifold_conv_equals_dense_conv(kernel, dilation, stride, low):
    size = 8
    x = random_cloud(120, size, seed=11 * kernel + dilation, stride=stride, low=low, channels=3, dtype=torch.float64)
    g = torch.Generator().manual_seed(5)
    w = torch.randn(kernel**3, 3, 4, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    y = F.conv3d(x, w, b, dilation=dilation)
    assert y.coordinate_set is x.coordinate_set
    dense = torch.nn.functional.conv3d(
        to_dense(x, low, size), dense_weight(w), b, padding=(kernel // 2) * dilation, dilation=dilation
    )
    torch.testing.assert_close(y.features, sample_dense(dense, x.coordinates, stride, low))


@pytest.mark.parametrize(("kernel", "tensor_stride", "low"), [(2, 1, 0), (2, 2, -4), (3, 1, 0), (3, 4, -2)])
def test_strided_conv_equals_dense_conv(kernel, tensor_stride, low):
    size = 8  # even, with an even low corner so that parents line up with the dense grid
    x = random_cloud(150, size, seed=kernel + tensor_stride, stride=tensor_stride, low=low, dtype=torch.float64)
    g = torch.Generator().manual_seed(6)
    w = torch.randn(kernel**3, 3, 2, generator=g, dtype=torch.float64)
    y = F.conv3d(x, w, stride=2)
    assert y.tensor_stride == 2 * tensor_stride
    dense = torch.nn.functional.conv3d(
        to_dense(x, low, size), dense_weight(w), stride=2, padding=kernel // 2 if kernel % 2 else 0
    )
    torch.testing.assert_close(y.features, sample_dense(dense, y.coordinates, 2 * tensor_stride, low // 2))


def test_generative_transpose_equals_dense_transposed_conv():
    low, size = -2, 5
    x = random_cloud(40, size, seed=2, stride=4, low=low, dtype=torch.float64)
    g = torch.Generator().manual_seed(7)
    w = torch.randn(8, 3, 2, generator=g, dtype=torch.float64)
    b = torch.randn(2, generator=g, dtype=torch.float64)
    y = F.generative_transpose_conv3d(x, w, b)
    assert y.tensor_stride == 2 and len(y) == 8 * len(x)
    dense_w = w.reshape(2, 2, 2, 3, 2).permute(3, 4, 0, 1, 2)  # (C_in, C_out, 2, 2, 2)
    dense = torch.nn.functional.conv_transpose3d(to_dense(x, low, size), dense_w, b, stride=2)
    torch.testing.assert_close(y.features, sample_dense(dense, y.coordinates, 2, 2 * low))
    # row 8r + c is child c of row r
    child = (y.coordinates.reshape(-1, 8, 3) - x.coordinates[:, None, :]) // 2
    assert torch.equal(child[:, :, 0] * 4 + child[:, :, 1] * 2 + child[:, :, 2], torch.arange(8).expand(len(x), 8))


def test_down_then_up_recovers_the_children():
    x = random_cloud(200, 16, seed=3)
    down = F.conv3d(x, torch.randn(8, 3, 4), stride=2)
    up = F.generative_transpose_conv3d(down, torch.randn(8, 4, 1))
    assert up.tensor_stride == 1
    assert F.contains(up, x).sum() == len(x)
    assert F.contains(x, up).all()
    kept = F.prune_to(up, x)
    assert len(kept) == len(x) and torch.equal(torch.sort(kept.keys).values, x.sorted_keys)


def test_row_order_does_not_matter():
    x = random_cloud(150, 8, seed=4)
    order = torch.argsort(x.keys)
    xs = SparseTensor(x.coordinates[order], x.features[order])
    w = torch.randn(27, 3, 5)
    y, ys = F.conv3d(x, w), F.conv3d(xs, w)
    torch.testing.assert_close(y.features[order], ys.features)
    d, ds = F.conv3d(x, w, stride=2), F.conv3d(xs, w, stride=2)
    assert torch.equal(d.coordinates, ds.coordinates)
    torch.testing.assert_close(d.features, ds.features)


def test_batched_conv_equals_per_cloud_conv():
    a, b = random_cloud(100, 6, seed=8), random_cloud(90, 6, seed=9)
    xb = SparseTensor.collate([(a.coordinates, a.features), (b.coordinates, b.features)])
    w, w2 = torch.randn(27, 3, 4), torch.randn(8, 4, 2)
    yb = F.conv3d(F.conv3d(xb, w), w2, stride=2)
    parts = [F.conv3d(F.conv3d(t, w), w2, stride=2) for t in (a, b)]
    for i, part in enumerate(parts):
        rows = yb.coordinates[:, 0] == i
        got_c, got_f = sort_rows(yb.coordinates[rows, 1:], yb.features[rows])
        exp_c, exp_f = sort_rows(part.coordinates, part.features)
        assert torch.equal(got_c, exp_c)
        torch.testing.assert_close(got_f, exp_f)
    up = F.generative_transpose_conv3d(yb, torch.randn(8, 2, 1))
    assert up.batched and torch.equal(up.coordinates[:, 0], yb.coordinates[:, 0].repeat_interleave(8))


def test_pruning_by_mask_keeps_order_and_gradients():
    x = random_cloud(50, 5, seed=10)
    feats = x.features.clone().requires_grad_(True)
    x = x.replace_features(feats)
    keep = torch.arange(len(x)) % 3 == 0
    y = F.prune(x, keep)
    assert torch.equal(y.coordinates, x.coordinates[keep]) and torch.equal(y.features, feats[keep])
    y.features.sum().backward()
    assert torch.equal(feats.grad[:, 0], keep.double().float())
    z = F.conv3d(y, torch.randn(27, 3, 2))  # a pruned set builds its own maps
    assert len(z) == int(keep.sum())


def test_modules_and_resblock():
    from omnicodec.sparse import (
        SparseConv3d,
        SparseGenerativeTransposeConv3d,
        SparsePruning,
        SparseReLU,
        SparseResBlock,
    )

    torch.manual_seed(0)
    x = random_cloud(300, 12, seed=12, channels=4)
    net = torch.nn.Sequential(
        SparseConv3d(4, 8),
        SparseReLU(),
        SparseResBlock(8),
        SparseConv3d(8, 16, 2, stride=2),
        SparseGenerativeTransposeConv3d(16, 1),
    )
    y = net(x)
    assert y.tensor_stride == 1 and y.num_channels == 1
    kept = SparsePruning()(y, y.features[:, 0] > 0)
    assert len(kept) == int((y.features > 0).sum())
    assert len(SparsePruning()(y, x)) == len(x)
    y.features.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert len(x.kernel_map_cache) == 3  # one submanifold map shared by 3 convs, parents, strided map


def gradcheck_case(fn, x: SparseTensor, w: torch.Tensor, b: torch.Tensor | None):
    feats = x.features.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    inputs = (feats, w) if b is None else (feats, w, b.clone().requires_grad_(True))
    return torch.autograd.gradcheck(lambda *t: fn(x.replace_features(t[0]), *t[1:]).features, inputs)


@pytest.mark.parametrize("case", ["submanifold", "strided2", "strided3", "transpose"])
def test_gradcheck(case):
    x = random_cloud(30, 4, seed=13, stride=2, channels=2, dtype=torch.float64)
    g = torch.Generator().manual_seed(14)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    if case == "submanifold":
        assert gradcheck_case(F.conv3d, x, torch.randn(27, 2, 3, generator=g, dtype=torch.float64), b)
    elif case == "strided2":
        assert gradcheck_case(
            lambda t, w: F.conv3d(t, w, stride=2), x, torch.randn(8, 2, 3, generator=g, dtype=torch.float64), None
        )
    elif case == "strided3":
        assert gradcheck_case(
            lambda t, w, bb: F.conv3d(t, w, bb, stride=2), x, torch.randn(27, 2, 3, generator=g, dtype=torch.float64), b
        )
    else:
        assert gradcheck_case(
            F.generative_transpose_conv3d, x, torch.randn(8, 2, 3, generator=g, dtype=torch.float64), b
        )


def test_grad_of_features_only_and_weight_only():
    x = random_cloud(60, 5, seed=15, dtype=torch.float64)
    kmap = submanifold_map(x.coordinate_set, 3)
    w = torch.randn(27, 3, 2, dtype=torch.float64, requires_grad=True)
    apply_kernel_map(x.features, w, kmap).sum().backward()
    assert w.grad is not None
    f = x.features.clone().requires_grad_(True)
    apply_kernel_map(f, w.detach(), kmap).sum().backward()
    assert f.grad is not None


def test_deterministic_and_thread_count_independent():
    x = random_cloud(3000, 20, seed=16, channels=8)
    w = torch.randn(27, 8, 8)
    a = F.conv3d(x, w).features
    b = F.conv3d(SparseTensor(x.coordinates, x.features), w).features
    assert torch.equal(a, b)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        c = F.conv3d(SparseTensor(x.coordinates, x.features), w).features
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    x = random_cloud(500, 10, seed=17, channels=4)
    w, w2 = torch.randn(27, 4, 4), torch.randn(8, 4, 2)
    cpu = F.generative_transpose_conv3d(F.conv3d(F.conv3d(x, w), w2, stride=2), torch.randn(8, 2, 1))
    gpu_x = x.to("cuda")
    gpu = F.generative_transpose_conv3d(
        F.conv3d(F.conv3d(gpu_x, w.cuda()), w2.cuda(), stride=2), torch.randn(8, 2, 1).cuda()
    )
    assert torch.equal(gpu.coordinates.cpu(), cpu.coordinates)
