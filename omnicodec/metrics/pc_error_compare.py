"""Compare :func:`~.pointcloud.point_metrics` with values printed by MPEG pc_error 0.14.2.

pc_error prints each value with 9 significant digits. A run's printed values, parsed, are a dict with the sections
``p2point`` (D1) and ``p2plane`` (D2), each holding ``mse1, psnr1, h1, h_psnr1`` (A->B), the same with ``2`` (B->A)
and with ``F`` (symmetric), plus ``peak``; a value may be the string ``"inf"``. This is the layout of the project's
reference cases (``expected.json`` and its ``run_without_resolution``).

Tolerances (relative unless said): D1 mse and Hausdorff 1e-8 (exact sums; the limit is the 9-digit print), D2 mse and
Hausdorff 1e-6 (float32 terms, summation order), PSNR 1e-5 dB absolute plus the 9-digit print rounding, peak 1e-8.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["PC_ERROR_FIELDS", "format_like_pc_error", "compare_with_pc_error"]

_SECTIONS = {"p2point": "d1", "p2plane": "d2"}
_SUFFIXES = {"1": "_ab", "2": "_ba", "F": ""}
_QUANTITIES = {"mse": "mse", "psnr": "psnr", "h": "hausdorff", "h_psnr": "hausdorff_psnr"}

#: (section, pc_error field) -> point_metrics key, e.g. ("p2plane", "h_psnr1") -> "d2_hausdorff_psnr_ab".
PC_ERROR_FIELDS: dict[tuple[str, str], str] = {
    (section, f"{q}{s}"): f"{metric}_{ours}{suffix}"
    for section, metric in _SECTIONS.items()
    for q, ours in _QUANTITIES.items()
    for s, suffix in _SUFFIXES.items()
}

_REL_TOL = {"d1": 1e-8, "d2": 1e-6}
_PSNR_ABS_TOL = 1e-5
_PRINT_REL = 5e-9  # half a unit in the 9th significant digit


def format_like_pc_error(value: float) -> str:
    """A value as pc_error prints it (C++ ``std::cout`` with precision 9: ``%.9g``, ``inf``)."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if math.isnan(value):
        return "nan"
    return f"{value:.9g}"


def _check(key: str, expected: float, ours: float) -> tuple[float, bool]:
    """(error, within tolerance): absolute error for PSNRs, relative otherwise."""
    if math.isinf(expected) or math.isinf(ours) or math.isnan(ours):
        return (0.0, True) if expected == ours else (math.inf, False)
    if "psnr" in key:
        err = abs(ours - expected)
        return err, err <= _PSNR_ABS_TOL + _PRINT_REL * abs(expected)
    err = abs(ours - expected) / abs(expected) if expected != 0 else abs(ours)
    tol = _REL_TOL.get(key[:2], 1e-8)
    return err, err <= tol


def compare_with_pc_error(ours: dict[str, float], run: dict[str, Any], case: str = "") -> list[dict[str, Any]]:
    """One row per value pc_error printed: what it printed, ours, the error and whether it is within tolerance.

    Args:
        ours: the dict returned by :func:`~.pointcloud.point_metrics` (with Hausdorff values).
        run: pc_error's parsed values (sections ``p2point``/``p2plane`` and ``peak``, as described above).
        case: a label copied into each row.

    Returns:
        Rows with keys ``case, quantity`` (our key), ``expected, ours`` (floats), ``error`` (relative, or absolute in
        dB for PSNRs), ``pass`` (bool) and ``printed_match`` (whether ours, printed like pc_error, is the same text).
    """
    rows = []
    items = [((section, field), key) for (section, field), key in PC_ERROR_FIELDS.items() if section in run]
    for (section, field), key in items + [(("", "peak"), "peak")]:
        raw = run[section][field] if section else run["peak"]
        expected = float(raw)
        value = float(ours[key])
        err, ok = _check(key, expected, value)
        printed = format_like_pc_error(expected) if not isinstance(raw, str) else raw
        rows.append(
            {
                "case": case,
                "quantity": key,
                "expected": expected,
                "ours": value,
                "error": err,
                "pass": ok,
                "printed_match": format_like_pc_error(value) == _printed(run, section, field, printed),
            }
        )
    return rows


def _printed(run: dict[str, Any], section: str, field: str, fallback: str) -> str:
    """The text pc_error printed for a field, when the run keeps it (``printed``), else ``fallback``."""
    labels = run.get("printed", {})
    if not labels or not section:
        return labels.get("Peak distance for PSNR", fallback) if not section else fallback
    kind = "p2point" if section == "p2point" else "p2plane"
    q, s = field.rstrip("12F"), field[-1]
    tag = {"1": "1", "2": "2", "F": ""}[s]
    if q == "mse":
        label = f"mse{s}      ({kind})"
    elif q == "psnr":
        label = f"mse{s},PSNR ({kind})"
    elif q == "h":
        label = f"h.       {tag}({kind})" if tag else f"h.        ({kind})"
    else:
        label = f"h.,PSNR  {tag}({kind})" if tag else f"h.,PSNR   ({kind})"
    return labels.get(label, fallback)
