"""Many readers at once: `python -m bench load` starts a real server (`python app.py`) on 127.0.0.1 and runs N
websocket sessions (Streamlit's own protocol, bench/stclient.py) at once, each opening M chapters in turn; it prints
errors, p50 / p95 / max of the script runs, and the server's RSS before, after one reader, and after all.

Targets (issue #14): 20 sessions × 5 chapters, 0 errors, p95 ≤ 4 s on 2 cores; RSS with every chapter visited
≤ 2.0 GB and ≤ 30 MB more per extra session. Override with BENCH_SESSIONS, BENCH_PAGES (per session), BENCH_ROUNDS.

Two cases (issue #29), each on a fresh server: *cold*, the N readers arrive as soon as the server answers its health
check (a class following the teacher's link to an app that has just woken), and *warm*, the same load after one
reader has been through every chapter. For each: a reader's first page (request → script finished), the time to
the first element on the page, and the longest stretch of a run with nothing new on the page (a blank or frozen
page: a progress bar that moves counts as something new). BENCH_MODE=cold or warm runs one of them.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.common import rss_mb, streamlit_server
from bench.stclient import Session


def _pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, float), q))


def _readers(url: str, stems: list[str], n_sessions: int, n_pages: int, rounds: int) -> tuple[list[list], float]:
    """N sessions at once, reader i opening n_pages chapters (from stems, spread over readers) `rounds` times;
    returns each reader's runs in order and the wall time."""
    def reader(i: int) -> list:
        pages = [stems[(i * 3 + k) % len(stems)] for k in range(n_pages)]
        out = []
        with Session(url) as s:
            for _ in range(rounds):
                out += [s.open(p, "lang=ja" if i % 2 else "lang=en") for p in pages]
        return out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(n_sessions) as pool:
        per_reader = list(pool.map(reader, range(n_sessions)))
    return per_reader, time.perf_counter() - t0


def _summary(label: str, per_reader: list[list], wall: float, n_pages: int, rounds: int) -> None:
    results = [r for rs in per_reader for r in rs]
    times = np.array([r.seconds for r in results])
    firsts = [rs[0] for rs in per_reader]
    errors = [(r.page, r.status, r.exceptions[:1]) for r in results
              if r.status != "FINISHED_SUCCESSFULLY" or r.exceptions]
    print(f"[{label}] {len(per_reader)} sessions × {n_pages} chapters × {rounds} rounds = {len(results)} runs in "
          f"{wall:.1f} s: errors {len(errors)}, p50 {_pct(times, 50):.2f} s, p95 {_pct(times, 95):.2f} s "
          f"(target ≤ 4 s), max {times.max():.2f} s")
    print(f"[{label}] a reader's first page: p50 {_pct([r.seconds for r in firsts], 50):.1f} s, "
          f"p95 {_pct([r.seconds for r in firsts], 95):.1f} s, max {max(r.seconds for r in firsts):.1f} s; "
          f"first element on it after p50 {_pct([r.first_s for r in firsts], 50):.1f} s, "
          f"max {np.nanmax([r.first_s for r in firsts]):.1f} s")
    print(f"[{label}] longest stretch with nothing new on the page, per run: p50 "
          f"{_pct([r.silent_s for r in results], 50):.1f} s, p95 {_pct([r.silent_s for r in results], 95):.1f} s, "
          f"max {max(r.silent_s for r in results):.1f} s")
    per_page: dict[str, list[float]] = {}
    for r in results:
        per_page.setdefault(r.page, []).append(r.seconds)
    slowest = sorted(per_page.items(), key=lambda kv: -float(np.median(kv[1])))[:6]
    print(f"[{label}] slowest chapters under this load (median s): "
          + ", ".join(f"{k} {np.median(v):.1f}" for k, v in slowest))
    worst = sorted(results, key=lambda r: -r.seconds)[:5]
    print(f"[{label}] slowest runs under this load: "
          + ", ".join(f"{r.page} {r.seconds:.1f} s (silent {r.silent_s:.1f} s)" for r in worst))
    quiet = sorted(results, key=lambda r: -r.silent_s)[:6]
    print(f"[{label}] longest silences: "
          + ", ".join(f"{r.page} {r.silent_s:.1f} s (of a {r.seconds:.1f} s run)" for r in quiet))
    for e in errors[:10]:
        print("  error:", e)


def main() -> None:
    from ui.chapters import built_pages

    n_sessions = int(os.environ.get("BENCH_SESSIONS", 20))
    n_pages = int(os.environ.get("BENCH_PAGES", 5))
    rounds = int(os.environ.get("BENCH_ROUNDS", 2))
    mode = os.environ.get("BENCH_MODE", "both")
    stems = [stem for _, stem, _ in built_pages()]
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    if mode in ("both", "cold"):
        with streamlit_server() as (url, proc):          # the class arrives as soon as the server answers
            per_reader, wall = _readers(url, stems, n_sessions, n_pages, rounds)
            rss_cold = rss_mb(proc.pid)
        _summary("cold", per_reader, wall, n_pages, rounds)
        print(f"[cold] server RSS after the sessions {rss_cold:.0f} MB; load average now "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if mode not in ("both", "warm"):
        return
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
        per_reader, wall = _readers(url, stems, n_sessions, n_pages, rounds)
        rss_n = rss_mb(proc.pid)
    _summary("warm", per_reader, wall, n_pages, rounds)
    print(f"[warm] server RSS after the sessions {rss_n:.0f} MB: {(rss_n - rss_all) / n_sessions:+.1f} MB per "
          f"session (target ≤ 30 MB); load average now {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
