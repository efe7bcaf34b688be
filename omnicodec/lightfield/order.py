"""The coding order of a light field's views and the references each view is predicted from.

The first view is the one nearest the grid centre (the key view, coded through the learned image core). Every
next view is the one farthest from all views coded so far (ties: nearest the centre, then row-major), so the
order is hierarchical on any grid: corners and edge midpoints first, then the views between them, each
interpolated from coded views on several sides rather than extrapolated from one. A view's references are the
(up to) four coded views nearest to it. Its **level** is its distance to the coded views when its turn comes
(squared, in view steps): large levels are coarse anchors that later views lean on, so they get finer steps.

Everything is integer arithmetic on (row, column) positions; the order depends only on the grid shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ViewPlan", "coding_plan", "MAX_REFS"]

MAX_REFS = 4
"""Largest number of references per view."""


@dataclass(frozen=True)
class ViewPlan:
    """One view's place in the coding order.

    Attributes:
        view: ``(row, col)`` of the view.
        refs: ``(row, col)`` of its references (already coded), nearest first; empty for the key view.
        level: squared distance (view steps) to the nearest coded view when coded; 0 for the key view.
    """

    view: tuple[int, int]
    refs: tuple[tuple[int, int], ...]
    level: int


def coding_plan(u: int, v: int) -> list[ViewPlan]:
    """The coding order of a ``u x v`` grid (see the module docstring)."""
    rows, cols = np.divmod(np.arange(u * v), v)
    # centre distance doubled to stay integer
    centre = (2 * rows - (u - 1)) ** 2 + (2 * cols - (v - 1)) ** 2
    first = int(np.lexsort((np.arange(u * v), centre))[0])
    coded = [first]
    plans = [ViewPlan((int(rows[first]), int(cols[first])), (), 0)]
    dist = (rows - rows[first]) ** 2 + (cols - cols[first]) ** 2
    done = np.zeros(u * v, dtype=bool)
    done[first] = True
    for _ in range(u * v - 1):
        cand = np.flatnonzero(~done)
        key = np.lexsort((cand, centre[cand], -dist[cand]))
        nxt = int(cand[key[0]])
        d_ref = (rows[coded] - rows[nxt]) ** 2 + (cols[coded] - cols[nxt]) ** 2
        near = np.lexsort((np.arange(len(coded)), d_ref))[:MAX_REFS]
        refs = tuple((int(rows[coded[i]]), int(cols[coded[i]])) for i in near)
        plans.append(ViewPlan((int(rows[nxt]), int(cols[nxt])), refs, int(dist[nxt])))
        coded.append(nxt)
        done[nxt] = True
        dist = np.minimum(dist, (rows - rows[nxt]) ** 2 + (cols - cols[nxt]) ** 2)
    return plans
