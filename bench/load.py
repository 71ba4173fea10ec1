"""Many readers at once: `python -m bench load` starts a real server (`python app.py`) on 127.0.0.1 and runs N
websocket sessions (Streamlit's own protocol, bench/stclient.py) at once, each opening M chapters in turn; it prints
errors, p50 / p95 / max of the script runs, and the server's RSS before, after one reader, and after all.

Targets (issue #14): 20 sessions × 5 chapters, 0 errors, p95 ≤ 4 s on 2 cores; RSS with every chapter visited
≤ 2.0 GB and ≤ 30 MB more per extra session. Override with BENCH_SESSIONS, BENCH_PAGES (per session), BENCH_ROUNDS.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.common import rss_mb, streamlit_server
from bench.stclient import Session




def main() -> None:
    from ui.chapters import built_pages

    n_sessions = int(os.environ.get("BENCH_SESSIONS", 20))
    n_pages = int(os.environ.get("BENCH_PAGES", 5))
    rounds = int(os.environ.get("BENCH_ROUNDS", 2))
    stems = [stem for _, stem, _ in built_pages()]
    with streamlit_server() as (url, proc):
        rss0 = rss_mb(proc.pid)
        with Session(url) as s:                         # one reader through every chapter: warm caches, RSS
            warm = [s.open(stem, "lang=en") for stem in stems]
        alone = sorted(((r.seconds, r.page) for r in warm), reverse=True)[:6]
        print("slowest first runs, one reader: " + ", ".join(f"{p} {sec:.1f} s" for sec, p in alone))
        rss_all = rss_mb(proc.pid)
        bad = [(r.page, r.status, r.exceptions[:1]) for r in warm if r.status != "FINISHED_SUCCESSFULLY" or r.exceptions]
        print(f"one reader, every chapter ({len(stems)}): {sum(r.seconds for r in warm):.1f} s, errors {bad or 0}")
        print(f"server RSS: at start {rss0:.0f} MB, after every chapter once {rss_all:.0f} MB (target ≤ 2048 MB)")

        def reader(i: int) -> list:
            pages = [stems[(i * 3 + k) % len(stems)] for k in range(n_pages)]
            out = []
            with Session(url) as s:
                for _ in range(rounds):
                    out += [s.open(p, "lang=ja" if i % 2 else "lang=en") for p in pages]
            return out

        t0 = time.perf_counter()
        with ThreadPoolExecutor(n_sessions) as pool:
            results = [r for rs in pool.map(reader, range(n_sessions)) for r in rs]
        wall = time.perf_counter() - t0
        rss_n = rss_mb(proc.pid)
    times = np.array([r.seconds for r in results])
    errors = [(r.page, r.status, r.exceptions[:1]) for r in results
              if r.status != "FINISHED_SUCCESSFULLY" or r.exceptions]
    print(f"{n_sessions} sessions × {n_pages} chapters × {rounds} rounds = {len(results)} runs in {wall:.1f} s: "
          f"errors {len(errors)}, p50 {np.percentile(times, 50):.2f} s, p95 {np.percentile(times, 95):.2f} s "
          f"(target ≤ 4 s), max {times.max():.2f} s")
    print(f"server RSS after the sessions {rss_n:.0f} MB: {(rss_n - rss_all) / n_sessions:+.1f} MB per session "
          f"(target ≤ 30 MB)")
    per_page: dict[str, list[float]] = {}
    for r in results:
        per_page.setdefault(r.page, []).append(r.seconds)
    slowest = sorted(per_page.items(), key=lambda kv: -float(np.median(kv[1])))[:6]
    print("slowest chapters under this load (median s): " + ", ".join(f"{k} {np.median(v):.1f}" for k, v in slowest))
    worst = sorted(results, key=lambda r: -r.seconds)[:5]
    print("slowest runs under this load: " + ", ".join(f"{r.page} {r.seconds:.1f} s" for r in worst))
    for e in errors[:10]:
        print("  error:", e)


if __name__ == "__main__":
    main()
