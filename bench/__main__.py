"""Run every benchmark and print its figures: ``python -m bench [name ...]``.

Each ``bench/bench_<name>.py`` is run in its own process (so one's memory does not colour
another's), with its default arguments.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    names = sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    wanted = sys.argv[1:] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(names)}")
        return 2
    failed = 0
    for name in wanted:
        print(f"== bench_{name}", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", f"bench.bench_{name}"], cwd=here.parent, check=False
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
