from __future__ import annotations

import pytest
import torch

from omnicodec.errors import InputError
from omnicodec.sparse import COORD_MAX, SparseTensor, kernel_offsets, strided_map, submanifold_map
from omnicodec.sparse.kernel_map import children_set, lookup_rows

from .helpers import random_cloud


def brute_force_pairs(in_coords, out_coords, offsets):
    """Per offset, the set of (input row, output row) with in == out + offset (batch columns must match)."""
    result = []
    for d in offsets:
        shifted = out_coords.clone()
        shifted[:, -3:] += d
        eq = (in_coords[:, None, :] == shifted[None, :, :]).all(dim=2)
        i, o = torch.nonzero(eq, as_tuple=True)
        result.append(set(zip(i.tolist(), o.tolist(), strict=True)))
    return result


def pairs_of(kmap):
    return [set(zip(*(t.tolist() for t in kmap.pairs(k)), strict=True)) for k in range(kmap.kernel_volume)]


def transposed_pairs_of(kmap):
    t = kmap.transposed_table()
    out = []
    for k in range(kmap.kernel_volume):
        rows = torch.nonzero(t[:, k] < kmap.num_out).squeeze(1)
        out.append(set(zip(rows.tolist(), t[rows, k].tolist(), strict=True)))
    return out


def test_kernel_offsets_order():
    off = kernel_offsets(3)
    assert off.shape == (27, 3) and off[0].tolist() == [-1, -1, -1] and off[1].tolist() == [-1, -1, 0]
    assert off[13].tolist() == [0, 0, 0] and off[3].tolist() == [-1, 0, -1] and off[9].tolist() == [0, -1, -1]
    two = kernel_offsets(2, 4)
    assert [4 * a // 4 + 2 * b // 4 + c // 4 for a, b, c in two.tolist()] == list(range(8))


@pytest.mark.parametrize(
    ("kernel", "dilation", "stride", "low"), [(3, 1, 1, 0), (3, 1, 2, -5), (5, 1, 1, 3), (3, 2, 1, -2), (1, 1, 1, 0)]
)
def test_submanifold_map_matches_brute_force(kernel, dilation, stride, low):
    x = random_cloud(150, 7, seed=kernel + dilation + stride, stride=stride, low=low)
    kmap = submanifold_map(x.coordinate_set, kernel, dilation)
    offsets = kernel_offsets(kernel, stride * dilation)
    assert pairs_of(kmap) == brute_force_pairs(x.coordinates, x.coordinates, offsets)
    assert submanifold_map(x.coordinate_set, kernel, dilation) is kmap  # cached


@pytest.mark.parametrize(
    ("kernel", "stride", "dilation", "tensor_stride", "low"),
    [
        (2, 2, 1, 1, 0),
        (2, 2, 1, 2, -3),
        (3, 2, 1, 1, -4),
        (3, 2, 1, 4, 1),
        (4, 4, 1, 1, 0),
        (3, 2, 2, 1, 0),
        (2, 4, 1, 1, -1),
    ],
)
def test_strided_map_matches_brute_force(kernel, stride, dilation, tensor_stride, low):
    x = random_cloud(200, 9, seed=kernel * 7 + stride, stride=tensor_stride, low=low)
    kmap, out_cs = strided_map(x.coordinate_set, kernel, stride, dilation)
    new = tensor_stride * stride
    parents = torch.unique(torch.div(x.coordinates, new, rounding_mode="floor") * new, dim=0)
    assert out_cs.stride == new
    assert torch.equal(out_cs.coordinates, parents)  # sorted, unique
    offsets = kernel_offsets(kernel, tensor_stride * dilation)
    assert pairs_of(kmap) == brute_force_pairs(x.coordinates, out_cs.coordinates, offsets)
    assert transposed_pairs_of(kmap) == pairs_of(kmap)


def test_batched_maps_do_not_cross_batches():
    g = torch.Generator().manual_seed(3)
    c = torch.unique(torch.randint(0, 5, (300, 4), generator=g), dim=0)
    c[:, 0] = c[:, 0] % 3
    c = torch.unique(c, dim=0)
    x = SparseTensor(c, torch.zeros(len(c), 1))
    kmap = submanifold_map(x.coordinate_set, 3)
    assert pairs_of(kmap) == brute_force_pairs(c, c, kernel_offsets(3))
    kmap2, out_cs = strided_map(x.coordinate_set, 3, 2)
    assert pairs_of(kmap2) == brute_force_pairs(c, out_cs.coordinates, kernel_offsets(3))


def test_children_set_and_lookup():
    x = random_cloud(40, 5, seed=1, stride=4, low=-2)
    ch = children_set(x.coordinate_set, 2)
    assert ch.stride == 2 and len(ch) == 8 * len(x)
    expect = (x.coordinates[:, None, :] + kernel_offsets(2, 2)[None]).reshape(-1, 3)
    assert torch.equal(ch.coordinates, expect)
    rows = lookup_rows(x.coordinate_set, torch.cat([x.keys.flip(0), torch.tensor([-1])]))
    assert rows.tolist() == list(range(len(x)))[::-1] + [-1]


def test_reach_beyond_key_range_is_refused():
    x = SparseTensor(torch.tensor([[COORD_MAX, 0, 0]]), torch.ones(1, 1))
    with pytest.raises(InputError, match="range"):
        submanifold_map(x.coordinate_set, 3)


def test_sorted_input_has_no_order_array():
    x = SparseTensor(torch.tensor([[0, 0, 0], [0, 0, 1], [0, 1, 0]]), torch.ones(3, 1))
    assert x.coordinate_set.order is None
    kmap = submanifold_map(x.coordinate_set, 3)
    assert kmap.num_pairs() == 3 + 6  # identity + 3 neighbour pairs both ways
