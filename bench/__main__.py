"""Run the benchmarks: `python -m bench` (all) or `python -m bench audio ctc` (some, by chapter stem).

A chapter's benchmark is `bench/<section>/<stem>.py` with a `main()`; the list comes from ui/chapters.py's SYLLABUS,
plus the cross-chapter benchmarks at the top level of bench/ (e.g. `python -m bench load`)."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

# As the app runs (app.py sets it before anything imports numpy or torch): one BLAS / OpenMP thread per call. With
# the default (one per core) a loaded 2-core machine spends most of a small matrix product spin-waiting.
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests"):          # tests/oracles holds the reference adapters shared with the tests
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

HELPERS = {"common", "__main__", "__init__"}


def available() -> dict[str, str]:
    """{name: module} of every benchmark: chapter stems in syllabus order, then top-level ones."""
    from ui.chapters import SYLLABUS

    found = {stem: f"bench.{section}.{stem}" for section, stems in SYLLABUS.items() for stem in stems
             if (ROOT / "bench" / section / f"{stem}.py").is_file()}
    found.update({p.stem: f"bench.{p.stem}" for p in sorted((ROOT / "bench").glob("*.py")) if p.stem not in HELPERS})
    return found


def main(argv: list[str]) -> int:
    benches = available()
    chosen = argv or list(benches)
    unknown = [c for c in chosen if c not in benches]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {list(benches)}")
        return 2
    for name in chosen:
        print(f"\n=== {benches[name].replace('.', '/')}.py ===", flush=True)
        importlib.import_module(benches[name]).main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
