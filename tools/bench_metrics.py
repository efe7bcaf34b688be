"""D1 + D2 speed on dense_loot against a random 50 % subset of it (target: under 10 s on 2 cores).

Usage: python tools/bench_metrics.py [--cloud PLY] [--repeat 3] [--json PATH]
(the same as ``python tools/eval_metric_refs.py --bench``; this name keeps every benchmark under tools/bench_*.py).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--bench", *sys.argv[1:]]
    runpy.run_path(str(Path(__file__).with_name("eval_metric_refs.py")), run_name="__main__")
