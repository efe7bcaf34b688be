"""Geometry statistics of voxelised clouds, to compare synthetic samples with real scans.

* Neighbour counts: for each occupied voxel, how many of its 6 face, 18 face+edge and 26 face+edge+corner
  neighbours are occupied. A watertight 1-voxel-thick surface has 4-8 occupied face/edge neighbours and rarely all
  6 face neighbours (that happens only inside a solid or a thick shell).
* Children per parent: mean number of occupied children of an occupied octree node, level by level (what an
  occupancy entropy model sees: about 4 on a smooth surface near the leaves, nearer 1-2 for sparse LiDAR).
"""

from __future__ import annotations

import numpy as np

from omnicodec.pointcloud.octree import morton_encode, occupancy_codes

from .grid import unique_int

__all__ = ["NEIGHBOUR_OFFSETS", "neighbour_counts", "children_per_parent", "geometry_stats"]

_ALL = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1) if (i, j, k) != (0, 0, 0)])
NEIGHBOUR_OFFSETS = _ALL[np.argsort(np.abs(_ALL).sum(axis=1), kind="stable")]
"""(26, 3) neighbour offsets: the 6 face neighbours first, then the 12 edge, then the 8 corner neighbours."""

_BITMAP_LIMIT = 1 << 33  # bounding boxes up to this many voxels use a packed bitmap (at most 1 GiB)


class _Occupancy:
    """Membership test for a set of voxels: a packed bitmap over the bounding box, or sorted keys when it is huge."""

    def __init__(self, coords: np.ndarray) -> None:
        c = np.asarray(coords, np.int64)
        self.lo = c.min(axis=0) - 1
        self.dims = c.max(axis=0) - self.lo + 2
        self.use_bitmap = int(np.prod(self.dims)) <= _BITMAP_LIMIT
        idx = self._linear(c)
        if self.use_bitmap:
            self.bits = np.zeros(int(np.prod(self.dims) + 7) // 8, np.uint8)
            np.bitwise_or.at(self.bits, idx >> 3, (1 << (idx & 7)).astype(np.uint8))
        else:
            self.keys = np.sort(idx)

    def _linear(self, c: np.ndarray) -> np.ndarray:
        r = c - self.lo
        return (r[:, 0] * self.dims[1] + r[:, 1]) * self.dims[2] + r[:, 2]

    def contains(self, c: np.ndarray) -> np.ndarray:
        idx = self._linear(c)
        if self.use_bitmap:
            return ((self.bits[idx >> 3] >> (idx & 7).astype(np.uint8)) & 1).astype(bool)
        pos = np.minimum(np.searchsorted(self.keys, idx), len(self.keys) - 1)
        return self.keys[pos] == idx


def neighbour_counts(coords: np.ndarray) -> np.ndarray:
    """Occupied neighbours of every voxel.

    Args:
        coords: (N, 3) unique integer voxel indices.

    Returns:
        (N, 3) int counts of occupied face (of 6), face+edge (of 18) and all (of 26) neighbours.
    """
    c = np.asarray(coords, np.int64)
    if len(c) == 0:
        return np.zeros((0, 3), np.int64)
    occ = _Occupancy(c)
    hits = np.stack([occ.contains(c + o) for o in NEIGHBOUR_OFFSETS], axis=1)  # (N, 26)
    return np.stack([hits[:, :6].sum(1), hits[:, :18].sum(1), hits.sum(1)], axis=1)


def children_per_parent(coords: np.ndarray, bits: int) -> np.ndarray:
    """Mean occupied children per occupied node at octree levels 0 .. bits-1 (level 0 = root).

    Args:
        coords: (N, 3) unique non-negative integer indices below ``2**bits``.
        bits: octree depth.

    Returns:
        (bits,) float means.
    """
    keys = unique_int(morton_encode(np.asarray(coords, np.int64)))
    codes = occupancy_codes(keys, bits)
    return np.array([np.unpackbits(c[:, None], axis=1).sum(1).mean() if len(c) else 0.0 for c in codes])


def geometry_stats(coords: np.ndarray, bits: int, neighbours: bool = True) -> dict[str, float | list[float]]:
    """Summary statistics of one voxelised cloud.

    Args:
        coords: (N, 3) unique non-negative integer indices below ``2**bits``.
        bits: grid depth.
        neighbours: also compute the neighbour statistics (skip for sparse LiDAR grids, where they are all ~0).

    Returns:
        ``points``; ``children`` (mean children per parent, levels 0..bits-1); with ``neighbours``: ``n6``,
        ``n18``, ``n26`` (mean occupied neighbours), ``full6`` (fraction with all 6 face neighbours occupied),
        ``shell`` (fraction with 4-8 occupied face/edge neighbours), ``isolated`` (fraction with no neighbour).
    """
    out: dict[str, float | list[float]] = {
        "points": float(len(coords)),
        "children": [round(float(v), 3) for v in children_per_parent(coords, bits)],
    }
    if neighbours and len(coords):
        n = neighbour_counts(coords)
        out.update(
            n6=float(n[:, 0].mean()),
            n18=float(n[:, 1].mean()),
            n26=float(n[:, 2].mean()),
            full6=float((n[:, 0] == 6).mean()),
            shell=float(((n[:, 1] >= 4) & (n[:, 1] <= 8)).mean()),
            isolated=float((n[:, 2] == 0).mean()),
        )
    return out


def _group(source: str) -> str:
    """Summary group of a sample: the generator name, or the real file's name (with ``+aug`` for augmented
    copies)."""
    head = source.split(":")[0]
    if head.startswith("synthetic_"):
        return head
    return head.rsplit("/", 1)[-1] + ("+aug" if ":" in source else "")


def summarize(path: str, samples: int = 40, seed: int = 0) -> list[dict]:
    """Mean statistics per group of (up to ``samples`` randomly chosen) samples of a training set file."""
    from .h5store import TrainingSet

    groups: dict[str, list[dict]] = {}
    with TrainingSet(path) as ts:
        rng = np.random.default_rng(seed)
        pick = rng.permutation(len(ts))[:samples] if samples < len(ts) else np.arange(len(ts))
        for i in sorted(pick):
            s = ts[int(i)]
            st = geometry_stats(s.coords, s.bits, neighbours=s.kind == "dense")
            groups.setdefault(_group(str(s.attrs["source"])), []).append(st)
    rows = []
    for name, sts in sorted(groups.items()):
        row: dict = {"group": name, "samples": len(sts), "points": float(np.mean([s["points"] for s in sts]))}
        for key in ("n6", "n18", "n26", "full6", "shell", "isolated"):
            if key in sts[0]:
                row[key] = float(np.mean([s[key] for s in sts]))
        last = min(len(s["children"]) for s in sts)
        row["children"] = np.mean([s["children"][-last:] for s in sts], axis=0).round(3).tolist()
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m datasets.stats FILE.h5 [--samples N]``: mean statistics per generator / real file."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m datasets.stats", description=main.__doc__)
    p.add_argument("files", nargs="+")
    p.add_argument("--samples", type=int, default=40, help="samples drawn per file (all when larger)")
    p.add_argument("--levels", type=int, default=6, help="finest octree levels shown for children per parent")
    args = p.parse_args(argv)
    for f in args.files:
        print(f)
        print(f"  {'group':<38}{'n':>4}{'points':>10}{'n6':>6}{'n18':>6}{'n26':>6}{'full6':>7}{'shell':>7}"
              f"{'isol':>6}  children per parent, finest levels last")
        for r in summarize(f, args.samples):
            nb = "".join(f"{r[k]:>{w}.{d}f}" if k in r else " " * w for k, w, d in
                         (("n6", 6, 2), ("n18", 6, 2), ("n26", 6, 2), ("full6", 7, 3), ("shell", 7, 2),
                          ("isolated", 6, 2)))
            print(f"  {r['group'][:37]:<38}{r['samples']:>4}{r['points']:>10,.0f}{nb}  {r['children'][-args.levels:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
