"""Every input the fuzzer (tools/fuzz.py) once broke a decoder or reader with now fails cleanly.

The files beside this test are small, minimised failing cases: ``*.omc`` streams go through ``omnicodec.decompress``,
other files and folders through ``omnicodec.read``. Each must raise an ``OmnicodecError`` subclass, within the time
limit, in a worker process under the fuzzer's address-space limit (so a regression to an unbounded allocation fails
the test instead of exhausting the machine). README.md lists what each case checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools import fuzz  # noqa: E402

HERE = Path(__file__).resolve().parent
CASES = sorted(p for p in HERE.iterdir() if not p.name.startswith(("_", ".")) and p.suffix not in (".py", ".md"))


def test_there_are_cases():
    assert len(CASES) >= 5


def test_every_case_fails_cleanly():
    results = fuzz.replay(CASES)
    bad = [f"{p.name}: {r['outcome']} {r.get('detail', '')} {r.get('frames', '')}" for p, r in results
           if r["outcome"] != "clean"]
    assert not bad, "\n".join(bad)
