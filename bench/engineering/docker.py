"""Docker chapter: the page's own work (build context, cache simulation, lint) and serving a class — throughput
and p95 latency of reader sessions (connect, upload an image, get the answer) through HAProxy to 1 vs 2
replicas, plus each replica's RSS. On a 2-core machine do not expect 2x: the replicas share the cores."""
from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.common import ROOT, best_of, report, rss_mb

SESSIONS = 24          # readers per configuration
CONCURRENCY = 6        # readers in flight at once


def _serve():
    spec = importlib.util.spec_from_file_location("kicks_serve", ROOT / "deploy" / "haproxy" / "serve.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod




def _reader(url: str, seed: int) -> tuple[float, bool]:
    from oracles.docker import StreamlitSession, answer_of, png

    data, expected = png(seed, size=256)
    t0 = time.perf_counter()
    s = StreamlitSession(url).connect()
    got = answer_of(s.upload(f"{seed}.png", data))
    elapsed = time.perf_counter() - t0
    s.close()
    return elapsed, got is not None and got[0] == expected


def serve_class(replicas: int) -> dict[str, float]:
    serve = _serve()
    probe = ROOT / "tests" / "engineering" / "replica_probe_app.py"
    with serve.Cluster(probe, replicas=replicas) as cluster:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda k: _reader(cluster.url, 1000 + k), range(CONCURRENCY)))   # warm-up
            t0 = time.perf_counter()
            results = list(pool.map(lambda k: _reader(cluster.url, k), range(SESSIONS)))
            wall = time.perf_counter() - t0
        rss = [rss_mb(p.pid) for p in cluster.replicas]
    lat = np.array([r[0] for r in results])
    return {"throughput": SESSIONS / wall, "p50": float(np.percentile(lat, 50)),
            "p95": float(np.percentile(lat, 95)), "ok": sum(r[1] for r in results), "rss": max(rss)}


def app_rss() -> float:
    """RSS of one real app.py replica after 4 readers opened Home through the proxy."""
    from oracles.docker import StreamlitSession

    serve = _serve()
    with serve.Cluster(ROOT / "app.py", replicas=1) as cluster:
        for _ in range(4):
            StreamlitSession(cluster.url, timeout=120).connect().close()
        return rss_mb(cluster.replicas[0].pid)


def main() -> None:
    from engine.engineering import docker

    text = (ROOT / "Dockerfile").read_text()
    ctx = docker.build_context(ROOT)
    dig = {f.path: f.digest for f in ctx.files}
    t_ctx = best_of(lambda: docker.build_context(ROOT), repeat=3)
    t_sim = best_of(lambda: [docker.simulate(*docker.scenario(n, text, dig, text)) for n in docker.SCENARIOS])
    t_own = best_of(lambda: docker.own_rules(text))
    report("docker: build context of the repo (hash every file)", t_ctx, 1.0, target=1.0)
    report("docker: cache simulation, 4 scenarios", t_sim, 0.05, target=1.0)
    report("docker: own lint rules on the Dockerfile", t_own, 0.01, target=1.0)
    if docker.hadolint_path():
        t_had = best_of(lambda: docker.run_hadolint(text, docker.hadolint_path()))
        report("docker: hadolint on the Dockerfile (subprocess)", t_had, 1.0, target=1.0)
    if _serve().haproxy_binary() is None:
        print("haproxy is not installed: serving benchmark skipped")
        return
    one = serve_class(1)
    two = serve_class(2)
    for name, r in (("1 replica ", one), ("2 replicas", two)):
        print(f"docker: {name} via HAProxy: {r['throughput']:6.2f} readers/s, p50 {r['p50']:.3f} s, "
              f"p95 {r['p95']:.3f} s, {r['ok']}/{SESSIONS} own answers, replica RSS {r['rss']:.0f} MB", flush=True)
    report("docker: p95 reader latency, 2 replicas vs 1", two["p95"], one["p95"], target=1.0)
    report("docker: throughput 1 replica vs 2 (ratio ≤ 1: 2 are faster)", one["throughput"], two["throughput"],
           unit="/s", target=1.0)
    report("docker: app.py replica RSS after 4 Home sessions vs request", app_rss(), 1536, unit="MB", target=1.0)
