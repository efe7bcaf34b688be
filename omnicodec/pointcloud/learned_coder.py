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
from .octree import CHILD_COUNT, expand_children

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
          progress: Progress, on_level: Callable | None = None, direct: Callable | None = None) -> np.ndarray:
    """The coarse-to-fine walk; ``code_pass(d, i, ctx, logits, states)`` codes one pass and returns its bits
    (``logits`` when a network is given, ``states`` on learned levels). ``direct(d, n)``, when given, may code a
    whole level of ``n`` nodes in direct mode and return its codes (None: the level is coded pass by pass); after
    the first direct level every finer level is direct too, so no neighbour tables are built for them."""
    keys = np.zeros(1, dtype=np.int64)
    nbr = np.full((1, 26), -1, dtype=np.int64)
    position = np.zeros(1, dtype=np.int64)
    direct_from = False
    for d in range(depth):
        level = depth - 1 - d
        learned = level < learned_levels
        n = len(keys)
        codes = direct(d, n) if direct is not None else None
        direct_from = direct_from or codes is not None  # direct mode, once on, holds to the leaves
        if codes is None:
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
        if d + 1 < depth and not direct_from:
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


_UNIFORM8 = np.full(8, 1 << (PROB_BITS - 3), dtype=np.int32)
_UNIFORM256 = np.full(256, 1 << (PROB_BITS - 8), dtype=np.int32)
_LOWEST_BIT = np.array([(v & -v).bit_length() - 1 if v else 0 for v in range(256)], dtype=np.int64)
DIRECT_SHARE = 0.995  # a level is coded in direct mode when at least this share of its nodes has one child


def _multi_freqs(multi: int, n: int) -> np.ndarray:
    """The binary table of "this node has several children", from their number on the level."""
    one = int(np.clip(round(multi / max(n, 1) * (1 << PROB_BITS)), 1, (1 << PROB_BITS) - 1))
    return np.array([(1 << PROB_BITS) - one, one], dtype=np.int32)


def _encode_direct(encoder, code: np.ndarray) -> None:
    """Direct mode for a level of single-child nodes (fine LiDAR levels): the number of nodes with several
    children (32 bits), a flag per node coded with that share, the single child's index as 3 plain bits, and the
    occupancy code of the others as 8 plain bits. No network and no contexts: those levels are noise."""
    multi = CHILD_COUNT[code] > 1
    m = int(multi.sum())
    encoder.encode(np.frombuffer(np.uint32(m).tobytes(), np.uint8).astype(np.int64), _UNIFORM256)
    encoder.encode(multi.astype(np.int64), _multi_freqs(m, len(code)))
    single = code[~multi].astype(np.int64)
    encoder.encode(_LOWEST_BIT[single], _UNIFORM8)
    encoder.encode(code[multi].astype(np.int64), _UNIFORM256)


def _decode_direct(decoder, n: int) -> np.ndarray:
    m = int(np.frombuffer(decoder.decode(_UNIFORM256, 4).astype(np.uint8).tobytes(), "<u4")[0])
    if m > n:
        raise CorruptStreamError(f"a direct-mode level of {n} nodes declares {m} with several children")
    multi = decoder.decode(_multi_freqs(m, n), n).astype(bool)
    if int(multi.sum()) != m:
        raise CorruptStreamError("a direct-mode level's flags disagree with its count")
    code = np.empty(n, dtype=np.uint8)
    code[~multi] = np.left_shift(1, decoder.decode(_UNIFORM8, n - m)).astype(np.uint8)
    code[multi] = decoder.decode(_UNIFORM256, m).astype(np.uint8)
    if (CHILD_COUNT[code[multi]] < 2).any():
        raise CorruptStreamError("a direct-mode level holds an impossible occupancy code")
    return code


def _direct_start(codes: list[np.ndarray]) -> int:
    """The first level (index from the root) from which every level has at least ``DIRECT_SHARE`` single-child
    nodes; ``len(codes)`` when the finest level has not."""
    start = len(codes)
    while start > 0 and (CHILD_COUNT[codes[start - 1]] == 1).mean() >= DIRECT_SHARE:
        start -= 1
    return start


def encode_occupancy_learned(codes: list[np.ndarray], net: IntOccupancyNet, encoder, progress: Progress = None,
                             direct_levels: bool = True) -> None:
    """Code the occupancy codes of every level (from :func:`~.octree.occupancy_codes`) with the learned model.

    Before each level a flag says whether direct mode (:func:`_encode_direct`) starts there; it then holds for
    every finer level (without more flags). It starts at the coarsest level from which every level has at least
    ``DIRECT_SHARE`` single-child nodes; the levels before it are coded in eight passes.

    Args:
        codes: ``depth`` uint8 arrays, one code per occupied node of each level in Morton order.
        net: the occupancy model.
        encoder: an entropy encoder (``omnicodec.entropy``).
        progress: called with 1 after each level.
        direct_levels: write the per-level direct-mode flag (False: the layout without it, which
            :func:`decode_occupancy_learned` still reads with ``direct_levels=False``).
    """
    model = AdaptiveBinary()

    start = _direct_start(codes)

    def direct(d, n):
        if d <= start:  # the flag, until direct mode starts
            encoder.encode(np.array([int(d == start)]), _FLAG)
        if d < start:
            return None
        _encode_direct(encoder, codes[d])
        return codes[d]

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

    _walk(len(codes), net.config.learned_levels, net, code_pass, progress, direct=direct if direct_levels else None)


def decode_occupancy_learned(decoder, depth: int, max_nodes: int, net: IntOccupancyNet,
                             progress: Progress = None, direct_levels: bool = True) -> np.ndarray:
    """Decode the octree written by :func:`encode_occupancy_learned`.

    Args:
        direct_levels: the stream has the per-level direct-mode flag (streams of omnicodec 0.1.0 before it was
            added have none).

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

    started = [False]

    def direct(d, n):
        if n > max_nodes:
            raise CorruptStreamError(f"octree level {d} holds {n} nodes, more than the {max_nodes} declared")
        started[0] = started[0] or decoder.decode(_FLAG, 1)[0] == 1
        return _decode_direct(decoder, n) if started[0] else None

    keys = _walk(depth, net.config.learned_levels, net, code_pass, progress, direct=direct if direct_levels else None)
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
