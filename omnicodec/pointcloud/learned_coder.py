"""Octree occupancy coding with the learned model, coarse to fine.

The walk is the baseline's (:mod:`.occupancy_coder`): eight passes per level, pass ``i`` coding child ``i`` of every
occupied parent, and the baseline's adaptive context counts run alongside. On the coarse levels (more than
``learned_levels`` above the leaves) the counts alone give the probabilities, exactly as in the baseline codec; on
the finer levels the network (:mod:`.occupancy_net`) gives them, with the counts as one of its inputs. Every
probability is an integer computed exactly, so encoder and decoder agree on any machine.

On a learned level the encoder prices every pass both ways (network, counts alone) and codes one flag bit before
the pass saying which it used, so a cloud unlike the training data costs at most a few bits more than the baseline.
The decoder computes the network only for the passes that use it.

:func:`trace_levels` runs the same walk on a known octree and returns what the network sees, for training.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..entropy import PROB_BITS
from ..errors import CorruptStreamError
from .child_context import child_states, neighbour_keys, parent_table
from .occupancy_coder import AdaptiveBinary, child_neighbours, chunks, pass_contexts
from .occupancy_net import IntOccupancyNet, count_bucket
from .octree import expand_children

__all__ = ["encode_occupancy_learned", "decode_occupancy_learned", "trace_levels", "LevelTrace"]

Progress = Callable[[int], None] | None
_ROWS = 1 << 17  # rows per network call
_FLAG = np.array([1 << (PROB_BITS - 1), 1 << (PROB_BITS - 1)], dtype=np.int32)  # an even binary choice


@dataclass
class LevelTrace:
    """What the network sees on one level of a known octree (for training).

    Attributes:
        level: level counted from the finest (0 = the leaves are coded).
        table: (P, 27) int64 extended parent neighbour table (:func:`~.child_context.parent_table`).
        position: (P,) int64 index of each parent within its own parent.
        states: (8, P, 124) int8 block states (:func:`~.child_context.child_states`), one block per pass.
        count_idx: (8, P) int64 adaptive-count buckets.
        bits: (P, 8) uint8 the child bits.
    """

    level: int
    table: np.ndarray
    position: np.ndarray
    states: np.ndarray
    count_idx: np.ndarray
    bits: np.ndarray


def _walk(depth: int, learned_levels: int, net: IntOccupancyNet | None, code_pass: Callable,
          progress: Progress, on_level: Callable | None = None) -> np.ndarray:
    """The coarse-to-fine walk; ``code_pass(d, i, ctx, logits, states)`` codes one pass and returns its bits
    (``logits`` when a network is given, ``states`` on learned levels)."""
    keys = np.zeros(1, dtype=np.int64)
    nbr = np.full((1, 26), -1, dtype=np.int64)
    position = np.zeros(1, dtype=np.int64)
    for d in range(depth):
        level = depth - 1 - d
        learned = level < learned_levels
        n = len(keys)
        bits = np.zeros((n, 8), dtype=np.uint8)
        if learned:
            table = parent_table(nbr)
            term = net.level_term(table, position) if net is not None else None
        for i in range(8):
            ctx = pass_contexts(i, nbr, bits)
            logits = states = None
            if learned and net is not None:
                logits = functools.partial(_pass_logits, net, term, table, bits, i, level)
            elif learned:
                states = child_states(i, table, bits)
            bits[:, i] = code_pass(d, i, ctx, logits, states)
        codes = np.packbits(bits, axis=1, bitorder="little")[:, 0]
        if on_level is not None and learned:
            on_level(level, table, position, bits)
        keys = expand_children(keys, codes)
        if d + 1 < depth:
            nbr = child_neighbours(nbr, codes)
            position = np.nonzero(np.unpackbits(codes[:, None], axis=1, bitorder="little"))[1].astype(np.int64)
        if progress is not None:
            progress(1)
    return keys


def _pass_logits(net: IntOccupancyNet, term, table: np.ndarray, bits: np.ndarray, i: int, level: int) -> np.ndarray:
    """(P,) network logits of pass ``i`` (computed only when the pass uses the network)."""
    nkeys = neighbour_keys(table, bits)
    logits = np.empty(len(table), dtype=np.int64)
    for a in range(0, len(table), _ROWS):
        b = min(len(table), a + _ROWS)
        logits[a:b] = net.pass_logits_keys(term[a:b], nkeys[a:b], i, level)
    return logits


def _net_freqs(model: AdaptiveBinary, net: IntOccupancyNet, ctx: np.ndarray, cf: np.ndarray,
               logits: np.ndarray) -> np.ndarray:
    return net.freqs(logits, count_bucket(cf, model.counts[ctx].sum(axis=1)))


def _cost(freqs: np.ndarray, sym: np.ndarray) -> float:
    return float(-np.log2(freqs[np.arange(len(sym)), sym] / float(1 << PROB_BITS)).sum())


def encode_occupancy_learned(codes: list[np.ndarray], net: IntOccupancyNet, encoder, progress: Progress = None) -> None:
    """Code the occupancy codes of every level (from :func:`~.octree.occupancy_codes`) with the learned model.

    Args:
        codes: ``depth`` uint8 arrays, one code per occupied node of each level in Morton order.
        net: the occupancy model.
        encoder: an entropy encoder (``omnicodec.entropy``).
        progress: called with 1 after each level.
    """
    model = AdaptiveBinary()

    def code_pass(d, i, ctx, logits, states):
        sym = ((codes[d] >> i) & 1).astype(np.int64)
        if logits is None:
            for a, b in chunks(len(ctx)):
                encoder.encode(sym[a:b], model.freqs(ctx[a:b]))
                model.update(ctx[a:b], sym[a:b])
            return sym
        z = logits()
        tables: tuple[list, list] = ([], [])
        cost = [0.0, 0.0]
        for a, b in chunks(len(ctx)):
            cf = model.freqs(ctx[a:b])
            nf = _net_freqs(model, net, ctx[a:b], cf, z[a:b])
            for k, t in enumerate((cf, nf)):
                tables[k].append(t)
                cost[k] += _cost(t, sym[a:b])
            model.update(ctx[a:b], sym[a:b])
        use_net = int(cost[1] < cost[0])
        encoder.encode(np.array([use_net]), _FLAG)
        for (a, b), t in zip(chunks(len(ctx)), tables[use_net], strict=True):
            encoder.encode(sym[a:b], t)
        return sym

    _walk(len(codes), net.config.learned_levels, net, code_pass, progress)


def decode_occupancy_learned(decoder, depth: int, max_nodes: int, net: IntOccupancyNet,
                             progress: Progress = None) -> np.ndarray:
    """Decode the octree written by :func:`encode_occupancy_learned`.

    Returns:
        (M,) sorted int64 Morton keys of the occupied leaves.

    Raises:
        CorruptStreamError: a level decodes to more nodes than ``max_nodes``.
    """
    model = AdaptiveBinary()

    def code_pass(d, i, ctx, logits, states):
        if len(ctx) > max_nodes:
            raise CorruptStreamError(f"octree level {d} holds {len(ctx)} nodes, more than the {max_nodes} declared")
        sym = np.empty(len(ctx), dtype=np.int64)
        z = logits() if logits is not None and decoder.decode(_FLAG, 1)[0] == 1 else None
        for a, b in chunks(len(ctx)):
            cf = model.freqs(ctx[a:b])
            sym[a:b] = decoder.decode(cf if z is None else _net_freqs(model, net, ctx[a:b], cf, z[a:b]))
            model.update(ctx[a:b], sym[a:b])
        return sym

    keys = _walk(depth, net.config.learned_levels, net, code_pass, progress)
    if len(keys) > max_nodes:
        raise CorruptStreamError(f"the octree holds {len(keys)} leaves, more than the {max_nodes} points declared")
    return keys


def trace_levels(codes: list[np.ndarray], learned_levels: int) -> list[LevelTrace]:
    """The network's inputs on the learned levels of a known octree, with the count model run as in coding.

    Args:
        codes: occupancy codes of every level (:func:`~.octree.occupancy_codes`).
        learned_levels: how many of the finest levels the network codes.

    Returns:
        One :class:`LevelTrace` per learned level, coarse to fine.
    """
    model = AdaptiveBinary()
    pending: dict[str, list] = {"states": [], "count_idx": []}
    out: list[LevelTrace] = []

    def code_pass(d, i, ctx, logits, states):
        sym = ((codes[d] >> i) & 1).astype(np.int64)
        if states is not None:
            idx = np.empty(len(ctx), dtype=np.int64)
        for a, b in chunks(len(ctx)):
            if states is not None:
                cf = model.freqs(ctx[a:b])
                idx[a:b] = count_bucket(cf, model.counts[ctx[a:b]].sum(axis=1))
            model.update(ctx[a:b], sym[a:b])
        if states is not None:
            pending["states"].append(states)
            pending["count_idx"].append(idx)
        return sym

    def on_level(level, table, position, bits):
        out.append(LevelTrace(level, table, position, np.stack(pending["states"]), np.stack(pending["count_idx"]),
                              bits.copy()))
        pending["states"].clear()
        pending["count_idx"].clear()

    _walk(len(codes), learned_levels, None, code_pass, None, on_level)
    return out
