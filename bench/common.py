"""Small timing helpers shared by the benchmark modules (not a benchmark itself: main() lists nothing)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB (VmRSS), NaN once it has gone."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# The head of a probe run in a fresh interpreter (format it with root=...): the project on the path, `rss()`, and
# what every page of the app already has imported, so that what a page adds is measured from `before`.
PAGE_PROBE_HEAD = r"""
import json, sys
sys.path.insert(0, {root!r})
from bench.common import rss_mb as rss
from streamlit.testing.v1 import AppTest
import numpy, pandas, plotly, torch            # what every page of the app already has
before = rss()
"""


def best_of(fn, *, repeat: int = 5, number: int = 1) -> float:
    """Median seconds per call over `repeat` rounds of `number` calls (median: robust to a busy machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return float(np.median(times))


def interleaved_min(fn_a, fn_b, *, rounds: int = 15) -> tuple[float, float]:
    """Fastest seconds of each of two functions, timed alternately so that both see the same machine load."""
    best_a = best_b = float("inf")
    for _ in range(rounds):
        for fn, which in ((fn_a, 0), (fn_b, 1)):
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            if which == 0:
                best_a = min(best_a, elapsed)
            else:
                best_b = min(best_b, elapsed)
    return best_a, best_b


def report(name: str, value: float, reference: float, *, unit: str = "s", target: float = 1.0) -> None:
    """One line: value, reference, ratio value/reference and whether it meets `ratio ≤ target`."""
    ratio = value / reference
    verdict = "OK" if ratio <= target else "OVER"
    print(f"{name:<58} {value:10.4f} {unit} / {reference:10.4f} {unit} = ratio {ratio:6.3f} "
          f"(target ≤ {target:g}) {verdict}", flush=True)


PAGE_PROBE = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
t0 = time.perf_counter()
at = AppTest.from_file({page!r}, default_timeout=300).run()
out = {{"cold": time.perf_counter() - t0}}
assert not at.exception, [e.value for e in at.exception]
for prefix, values in json.loads({sweeps!r}).items():
    times = []
    for v in values:
        # keys may carry a suffix that changes with other settings (e.g. "audio.frame.<T>")
        next(s for s in at.slider if s.key == prefix or s.key.startswith(prefix + ".")).set_value(v)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
    out[prefix] = times
print(json.dumps(out))
"""


def page_timings(page: str, sweeps: dict[str, list]) -> dict[str, object]:
    """Run `page` headlessly (AppTest) in a fresh process: the cold first render, then one rerun per value
    of each slider in `sweeps` ({key or key prefix: [values]}). Returns {"cold": s, key: [s, ...]}."""
    code = PAGE_PROBE.format(root=str(ROOT), page=str(ROOT / page), sweeps=json.dumps(sweeps))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print("bench/common.py holds helpers only.")


@contextmanager
def streamlit_server() -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` on a free local port, yielded as (base URL, process) once /_stcore/health answers;
    stopped on exit. Output is discarded."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
