from __future__ import annotations

import pytest
import torch

from omnicodec.errors import InputError
from omnicodec.sparse import COORD_MAX, COORD_MIN, CoordinateSet, SparseTensor, pack_keys, unpack_keys
from omnicodec.sparse.keys import floor_keys, pack_offsets


def test_keys_round_trip_with_negatives_and_batch():
    g = torch.Generator().manual_seed(0)
    xyz = torch.randint(COORD_MIN, COORD_MAX + 1, (1000, 3), generator=g)
    xyz[:3] = torch.tensor([[COORD_MIN] * 3, [COORD_MAX] * 3, [0, -1, 1]])
    batch = torch.randint(0, 64, (1000,), generator=g)
    keys = pack_keys(xyz, batch)
    assert keys.dtype == torch.int64 and bool((keys >= 0).all())
    back, b = unpack_keys(keys)
    assert torch.equal(back, xyz) and torch.equal(b, batch)


def test_key_order_is_batch_then_lexicographic():
    c = torch.tensor([[0, 0, 5], [0, 1, -3], [-1, 7, 7], [2, -5, 0]])
    batch = torch.tensor([1, 0, 0, 0])
    order = torch.argsort(pack_keys(c, batch)).tolist()
    assert order == [2, 1, 3, 0]


def test_offsets_add_to_keys_and_floor():
    c = torch.tensor([[5, -3, 9], [-8, 0, 1]])
    d = torch.tensor([[-1, 2, -3], [4, -4, 0]])
    assert torch.equal(pack_keys(c) + pack_offsets(d), pack_keys(c + d))
    assert torch.equal(floor_keys(pack_keys(c), 4), pack_keys(torch.div(c, 4, rounding_mode="floor") * 4))


def test_tensor_basics_and_errors():
    x = SparseTensor(torch.tensor([[2, 0, 4], [0, 0, 0]]), torch.ones(2, 3), tensor_stride=2)
    assert len(x) == 2 and x.tensor_stride == 2 and not x.batched and x.num_channels == 3
    assert torch.equal(x.sorted_keys, torch.sort(x.keys).values)
    assert torch.equal(x.coordinate_set.order, torch.tensor([1, 0]))
    y = x.replace_features(torch.zeros(2, 5))
    assert y.coordinate_set is x.coordinate_set and y.num_channels == 5
    with pytest.raises(InputError, match="unique"):
        SparseTensor(torch.tensor([[0, 0, 0], [0, 0, 0]]), torch.ones(2, 1))
    with pytest.raises(InputError, match="multiples"):
        SparseTensor(torch.tensor([[1, 0, 0]]), torch.ones(1, 1), tensor_stride=2)
    with pytest.raises(InputError, match="range"):
        SparseTensor(torch.tensor([[COORD_MAX + 1, 0, 0]]), torch.ones(1, 1))
    with pytest.raises(InputError, match="power of two"):
        SparseTensor(torch.tensor([[0, 0, 0]]), torch.ones(1, 1), tensor_stride=3)
    with pytest.raises(InputError, match="batch"):
        SparseTensor(torch.tensor([[64, 0, 0, 0]]), torch.ones(1, 1))
    with pytest.raises(InputError, match="integers"):
        SparseTensor(torch.zeros(1, 3), torch.ones(1, 1))
    with pytest.raises(InputError, match="features"):
        SparseTensor(torch.zeros(2, 3, dtype=torch.int64) + torch.tensor([[0], [1]]), torch.ones(3, 1))


def test_collate_decollate_and_features_at():
    a = (torch.tensor([[0, 0, 0], [1, 2, 3]]), torch.tensor([[1.0], [2.0]]))
    b = (torch.tensor([[1, 2, 3]]), torch.tensor([[3.0]]))
    x = SparseTensor.collate([a, b])
    assert x.batched and x.batch_size == 2 and x.coordinates.shape == (3, 4)
    parts = x.decollate()
    assert [len(p) for p in parts] == [2, 1] and torch.equal(parts[1].features, b[1])
    got = x.features_at(torch.tensor([[1, 1, 2, 3], [0, 1, 2, 3], [0, 9, 9, 9], [70, 0, 0, 0]]), fill=-1.0)
    assert got.squeeze(1).tolist() == [3.0, 2.0, -1.0, -1.0]


def test_empty_tensor():
    x = SparseTensor(torch.zeros(0, 3, dtype=torch.int64), torch.zeros(0, 2))
    assert len(x) == 0 and x.coordinate_set.bounds == (0, 0)
    cs = CoordinateSet.from_coordinates(torch.zeros(0, 4, dtype=torch.int64))
    assert cs.batched and cs.batch_size() == 1
