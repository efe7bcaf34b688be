"""Kernel maps: which input row meets which output row through which kernel offset.

A map is a neighbour table: ``table[o, k]`` is the input row at offset k from output row o, or ``num_in`` (a
padding row of zeros) where there is none. Convolutions then gather rows and run one large matrix product per chunk
of outputs, with no scatter (:mod:`omnicodec.sparse.conv_function`).

Tables are built from sorted int64 keys (:mod:`omnicodec.sparse.keys`) with ``torch.searchsorted``; nothing here
loops over voxels in Python. Kernel offsets are listed with x slowest and z fastest, so for a kernel of size k the
weight slice of offset (i, j, l) (indices along x, y, z) is ``i*k*k + j*k + l``; for k = 2 that is the octree child
index ``4*ox + 2*oy + oz`` of :mod:`omnicodec.pointcloud.octree`.

Two look-up tricks keep the cost down:

* offsets that differ only in z by one input stride are found with one search per (x, y) column: the voxels between
  the lowest and the highest z of a column are consecutive in key order, so the search is walked forward;
* a submanifold map is symmetric: the column of offset -d is the column of +d inverted, so only half is searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import InputError
from .keys import check_coordinate_range, floor_keys, pack_offsets
from .tensor import CoordinateSet

__all__ = [
    "KernelMap",
    "kernel_offsets",
    "submanifold_map",
    "strided_map",
    "lookup_rows",
    "children_set",
]


@dataclass(eq=False)
class KernelMap:
    """Neighbour table of a convolution.

    Attributes:
        table: (N_out, K) int32; ``table[o, k]`` is the input row at kernel offset k from output row o, ``num_in``
            where there is none (int32 halves the memory traffic; sets are limited to 2**31 - 1 voxels).
        num_in: number of input rows.
        symmetric: inputs = outputs and offsets come in pairs +-d (submanifold): column ``K-1-k`` is the transpose of
            column k, which the backward pass uses instead of a transposed table.
        single_out: (N_in,) int64 or None. Set when every input meets exactly one output (kernel size = stride):
            that output's row; ``single_slot`` then holds the offset.
        single_slot: (N_in,) int64 or None.
    """

    table: torch.Tensor
    num_in: int
    symmetric: bool = False
    single_out: torch.Tensor | None = None
    single_slot: torch.Tensor | None = None
    _transposed: torch.Tensor | None = field(default=None, repr=False)

    @property
    def num_out(self) -> int:
        return self.table.shape[0]

    @property
    def kernel_volume(self) -> int:
        return self.table.shape[1]

    def transposed_table(self) -> torch.Tensor:
        """(N_in, K) int32: ``t[i, k]`` is the output row that takes input i through offset k, ``num_out`` if none.

        Built once (one scatter) and kept.
        """
        if self._transposed is None:
            n_out, kvol = self.table.shape
            t = torch.full((self.num_in + 1, kvol), n_out, dtype=torch.int32, device=self.table.device)
            src = torch.arange(n_out, dtype=torch.int32, device=self.table.device)[:, None].expand(n_out, kvol)
            t.scatter_(0, self.table, src)  # missing pairs all land in the extra row, dropped below
            self._transposed = t[: self.num_in]
        return self._transposed

    def pairs(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(input rows, output rows) of offset k: two (M_k,) int64 tensors, output rows increasing."""
        col = self.table[:, k]
        out_rows = torch.nonzero(col < self.num_in).squeeze(1)
        return col[out_rows].long(), out_rows

    def num_pairs(self) -> int:
        """Number of (input, output, offset) triples."""
        return int((self.table < self.num_in).sum())

    def to(self, device: torch.device | str) -> KernelMap:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return KernelMap(
            self.table.to(device),
            self.num_in,
            self.symmetric,
            move(self.single_out),
            move(self.single_slot),
            move(self._transposed),
        )


def kernel_offsets(kernel_size: int, step: int = 1, device: torch.device | str | None = None) -> torch.Tensor:
    """Offsets of a cubic kernel, x slowest, z fastest.

    Args:
        kernel_size: k >= 1. Odd k is centred (``-(k//2) .. k//2``); even k spans ``0 .. k-1``.
        step: distance between taps (tensor stride times dilation).
        device: where the result lives.

    Returns:
        (k**3, 3) int64 offsets.
    """
    if kernel_size < 1:
        raise InputError(f"kernel size must be >= 1, got {kernel_size}")
    start = -(kernel_size // 2) if kernel_size % 2 else 0
    r = torch.arange(start, start + kernel_size, dtype=torch.int64, device=device) * step
    return torch.cartesian_prod(r, r, r).reshape(-1, 3)


def _check_reach(cs: CoordinateSet, low: int, high: int) -> None:
    lo, hi = cs.bounds
    check_coordinate_range(lo + low, hi + high, "kernel look-ups")


def _search(
    cs: CoordinateSet, queries: torch.Tensor, offsets: torch.Tensor, column_step: int | None, out: torch.Tensor
) -> None:
    """Fill ``out[j]`` with the sorted position in ``cs`` of voxel ``queries + offsets[j]``, ``len(cs)`` if absent.

    Args:
        cs: the set searched.
        queries: (Q,) int64 keys, preferably increasing (searches are faster).
        offsets: (J, 3) int64 offsets, x slowest and z fastest.
        column_step: z spacing of the voxels of ``cs`` when consecutive offsets of a column differ by exactly that
            (then one search serves the whole column), else None.
        out: (J, Q) int32, rows contiguous.
    """
    skeys = cs.sorted_keys
    n = skeys.shape[0]
    if n == 0:
        out.fill_(0)
        return
    deltas = pack_offsets(offsets).tolist()
    xy = offsets[:, :2].tolist()
    missing = torch.full(queries.shape, n, dtype=torch.int32, device=queries.device)
    j = 0
    while j < len(deltas):
        end = j + 1
        if column_step is not None:
            while end < len(deltas) and xy[end] == xy[j] and deltas[end] - deltas[end - 1] == column_step:
                end += 1
        base = queries + deltas[j]
        pos = torch.searchsorted(skeys, base, out_int32=True)
        for i in range(j, end):
            at = pos.clamp_max(n - 1)
            hit = skeys[at] == (base if i == j else base + (deltas[i] - deltas[j]))
            torch.where(hit, at, missing, out=out[i])
            if i + 1 < end:
                pos += hit
        j = end


def _finish_table(cs: CoordinateSet, columns: torch.Tensor, query_rows: torch.Tensor | None) -> torch.Tensor:
    """(K, Q) sorted positions in ``cs`` (``len(cs)`` = none) -> (Q, K) table of rows of ``cs``.

    Args:
        cs: the searched set.
        columns: (K, Q) int32.
        query_rows: (Q,) int32 column of ``columns`` that each output row takes (None: the identity).
    """
    order = cs.order
    if order is not None:
        columns = torch.cat([order.to(torch.int32), columns.new_full((1,), len(cs))])[columns]
    table = columns.t().contiguous()
    return table if query_rows is None else table.index_select(0, query_rows)


def submanifold_map(cs: CoordinateSet, kernel_size: int = 3, dilation: int = 1) -> KernelMap:
    """Map of a submanifold convolution (outputs = inputs), cached on ``cs``.

    Args:
        cs: the voxels.
        kernel_size: odd k.
        dilation: tap spacing in units of the tensor stride.

    Returns:
        A symmetric map with k**3 offsets (see :func:`kernel_offsets`).
    """
    if kernel_size % 2 == 0:
        raise InputError(f"a submanifold convolution needs an odd kernel size, got {kernel_size}")
    key = ("submanifold", kernel_size, dilation)
    if key in cs.cache:
        return cs.cache[key]
    step = cs.stride * dilation
    reach = (kernel_size // 2) * step
    _check_reach(cs, -reach, reach)
    offsets = kernel_offsets(kernel_size, step)
    kvol, n = offsets.shape[0], len(cs)
    centre = kvol // 2
    skeys = cs.sorted_keys
    # Work on sorted positions, one contiguous column per offset; the extra entry n absorbs the writes of missing
    # pairs when mirroring.
    columns = torch.empty((kvol, n + 1), dtype=torch.int32, device=cs.device)
    _search(cs, skeys, offsets[centre + 1 :], cs.stride if dilation == 1 else None, columns[centre + 1 :, :n])
    positions = torch.arange(n + 1, dtype=torch.int32, device=cs.device)
    columns[centre] = positions
    columns[:centre] = n
    for k in range(centre + 1, kvol):  # o = i + d  =>  i = o - d
        columns[kvol - 1 - k].index_put_((columns[k, :n],), positions[:n])
    query_rows = None
    if cs.order is not None:
        query_rows = torch.empty(n, dtype=torch.int32, device=cs.device)
        query_rows[cs.order] = positions[:n]  # sorted position of each row
    kmap = KernelMap(_finish_table(cs, columns[:, :n], query_rows), n, symmetric=True)
    cs.cache[key] = kmap
    return kmap


def _parent_set(cs: CoordinateSet, stride: int) -> tuple[CoordinateSet, torch.Tensor]:
    """Voxels at ``stride`` times the tensor stride covering ``cs`` (sorted), and each input row's parent row."""
    key = ("parents", stride)
    if key not in cs.cache:
        new_stride = cs.stride * stride
        if stride < 1 or stride & (stride - 1):
            raise InputError(f"stride must be a power of two, got {stride}")
        parents = floor_keys(cs.keys, new_stride)
        unique, inverse = torch.unique(parents, sorted=True, return_inverse=True)
        cs.cache[key] = (CoordinateSet(unique, new_stride, cs.batched, is_sorted=True), inverse)
    return cs.cache[key]


def strided_map(
    cs: CoordinateSet, kernel_size: int = 2, stride: int = 2, dilation: int = 1
) -> tuple[KernelMap, CoordinateSet]:
    """Map of a strided (downsampling) convolution, cached on ``cs``.

    Outputs sit at the parents ``floor(c / (stride*s)) * stride*s`` of the inputs (s: input tensor stride). Output p
    takes input ``p + d`` for the offsets d of :func:`kernel_offsets` at step ``s * dilation``: for kernel 2 stride 2
    those are exactly the 8 children of p, each input feeding one output.

    Args:
        cs: input voxels.
        kernel_size: k >= 1.
        stride: a power of two >= 2.
        dilation: tap spacing in units of the input tensor stride.

    Returns:
        ``(kernel_map, output_set)``.
    """
    key = ("strided", kernel_size, stride, dilation)
    if key in cs.cache:
        return cs.cache[key]
    out_cs, parent_row = _parent_set(cs, stride)
    step = cs.stride * dilation
    offsets = kernel_offsets(kernel_size, step, cs.device)
    n, kvol = len(cs), offsets.shape[0]
    if kernel_size == stride and dilation == 1:
        # Every input meets exactly one output: its parent, through the offset of its place inside it.
        slot = torch.searchsorted(pack_offsets(offsets), cs.keys - out_cs.keys[parent_row])
        table = torch.full((len(out_cs), kvol), n, dtype=torch.int32, device=cs.device)
        table[parent_row, slot] = torch.arange(n, dtype=torch.int32, device=cs.device)
        kmap = KernelMap(table, n, single_out=parent_row, single_slot=slot)
    else:
        start = -(kernel_size // 2) * step if kernel_size % 2 else 0
        _check_reach(cs, start - stride * cs.stride, start + (kernel_size - 1) * step)
        columns = torch.empty((kvol, len(out_cs)), dtype=torch.int32, device=cs.device)
        _search(cs, out_cs.keys, offsets, cs.stride if dilation == 1 else None, columns)
        kmap = KernelMap(_finish_table(cs, columns, None), n)
    result = (kmap, out_cs)
    cs.cache[key] = result
    return result


def children_set(cs: CoordinateSet, stride: int = 2) -> CoordinateSet:
    """All children of every voxel at tensor stride ``s / stride``, cached on ``cs``.

    Row ``r * stride**3 + c`` is child c (see :func:`kernel_offsets` with kernel size ``stride``) of input row r
    (parent-major order, not key order: the set sorts itself when a kernel map needs it).

    Args:
        cs: parent voxels, tensor stride s with ``s >= stride``.
        stride: a power of two >= 2.
    """
    key = ("children", stride)
    if key not in cs.cache:
        if stride < 2 or stride & (stride - 1) or cs.stride % stride:
            raise InputError(f"cannot split tensor stride {cs.stride} by {stride}")
        new_stride = cs.stride // stride
        offsets = kernel_offsets(stride, new_stride, cs.device)
        _check_reach(cs, 0, (stride - 1) * new_stride)
        keys = (cs.keys[:, None] + pack_offsets(offsets)[None, :]).reshape(-1)
        cs.cache[key] = CoordinateSet(keys, new_stride, cs.batched)
    return cs.cache[key]


def lookup_rows(cs: CoordinateSet, keys: torch.Tensor) -> torch.Tensor:
    """Row of each key in ``cs``, -1 where absent.

    Args:
        cs: the voxels searched.
        keys: (M,) int64 keys (negative keys never match).

    Returns:
        (M,) int64 rows.
    """
    skeys, order = cs.sorted_view()
    if skeys.numel() == 0:
        return torch.full_like(keys, -1)
    pos = torch.searchsorted(skeys, keys).clamp_max(skeys.numel() - 1)
    hit = skeys[pos] == keys
    rows = pos if order is None else order[pos]
    return torch.where(hit, rows, torch.full_like(rows, -1))
