"""Run the benchmarks: `python -m bench` (all) or `python -m bench audio ctc` (some)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    available = sorted(p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    chosen = argv or available
    unknown = [c for c in chosen if c not in available]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}")
        return 2
    for stem in chosen:
        print(f"\n=== bench/{stem}.py ===", flush=True)
        importlib.import_module(f"bench.{stem}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
