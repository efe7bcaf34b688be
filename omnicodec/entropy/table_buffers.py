"""Integer tables held as module buffers, so that they travel in the state dict with the weights.

A model's stream decodes only with the model's exact tables; keeping them in the state dict means a decoder that
loads the encoder's weights file uses the encoder's tables, never tables recomputed on another machine.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .table_set import TableSet

__all__ = ["TableBuffers", "lower_bound"]

_TABLE_KEYS = ("table_freqs", "table_starts", "table_lo")


class TableBuffers(nn.Module):
    """Base for entropy models with a :class:`TableSet` in buffers ``table_freqs``, ``table_starts``, ``table_lo``.

    Loading a state dict resizes the buffers to the incoming tables (their widths change when a model retrains).
    """

    def _init_table_buffers(self, num_tables: int) -> None:
        self.register_buffer("table_freqs", torch.zeros(0, dtype=torch.int32))
        self.register_buffer("table_starts", torch.zeros(num_tables + 1, dtype=torch.int64))
        self.register_buffer("table_lo", torch.zeros(num_tables, dtype=torch.int64))
        self._table_cache: TableSet | None = None

    def _set_tables(self, tables: TableSet) -> None:
        device = self.table_lo.device
        self.table_freqs = torch.from_numpy(tables.freqs.astype(np.int32)).to(device)
        self.table_starts = torch.from_numpy(tables.starts.astype(np.int64)).to(device)
        self.table_lo = torch.from_numpy(tables.lo.astype(np.int64)).to(device)
        self._table_cache = tables

    def _current_tables(self) -> TableSet:
        """The buffers as a :class:`TableSet` (numpy, CPU), cached until the buffers change."""
        cache = self._table_cache
        if cache is None or cache.freqs.shape[0] != self.table_freqs.shape[0]:
            cache = TableSet(
                self.table_freqs.cpu().numpy().astype(np.int32),
                self.table_starts.cpu().numpy().astype(np.int64),
                self.table_lo.cpu().numpy().astype(np.int64),
            )
            self._table_cache = cache
        return cache

    def _tables_missing(self) -> None:
        """Called when a loaded state dict has no tables (an older checkpoint): subclasses restore or rebuild."""

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, errors):
        absent = [prefix + key for key in self._table_keys() if prefix + key not in state_dict]
        for key in self._table_keys():
            incoming = state_dict.get(prefix + key)
            if incoming is not None:
                setattr(self, key, torch.empty_like(incoming, device=getattr(self, key).device))
        self._table_cache = None
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, errors)
        if absent:
            for key in absent:
                if key in missing_keys:
                    missing_keys.remove(key)
            self._tables_missing()

    def _table_keys(self) -> tuple[str, ...]:
        """Buffer names that belong to the tables (may be absent from older checkpoints)."""
        return _TABLE_KEYS


class _LowerBound(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, bound: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.bound = bound
        return x.clamp_min(bound)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        # Let gradients through where x is above the bound, or where descending would raise x towards it.
        passes = (x >= ctx.bound) | (grad < 0)
        return grad * passes.to(grad.dtype), None


def lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    """``max(x, bound)`` whose gradient below the bound still pushes x upwards (so it can recover)."""
    return _LowerBound.apply(x, bound)
