"""Serve a class on one machine: N replicas of the app behind HAProxy with cookie stickiness (haproxy.cfg).

    python deploy/haproxy/serve.py                      # 2 replicas on 8501, 8502; the class opens :8080
    python deploy/haproxy/serve.py --port 80 --replicas 2 --app app.py

Needs Debian's `haproxy` on PATH (`apt-get install haproxy`). Ctrl-C stops everything. The tests and the
benchmark import `Cluster` from this file (tests/engineering/test_deploy.py, bench/engineering/docker.py).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONFIG = HERE / "haproxy.cfg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_binary() -> str | None:
    """Debian's haproxy: on PATH, or in /usr/sbin (not on an ordinary user's PATH)."""
    found = shutil.which("haproxy")
    if found:
        return found
    return "/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None


def wait_healthy(url: str, timeout: float = 120.0) -> None:
    """Poll `url/_stcore/health` until it answers "ok"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not become healthy in {timeout:.0f} s")


class Cluster:
    """`replicas` Streamlit servers (one process each) and HAProxy in front of them, all on 127.0.0.1.

    With one replica both of haproxy.cfg's servers point at it, so the proxy path is the same."""

    def __init__(self, app: str | Path = ROOT / "app.py", replicas: int = 2, port: int | None = None,
                 replica_ports: list[int] | None = None, extra: list[str] | None = None, quiet: bool = True):
        if replicas not in (1, 2):
            raise ValueError("haproxy.cfg declares two servers: use 1 or 2 replicas")
        self.app = Path(app).resolve()
        self.n = replicas
        self.port = port or free_port()
        self.replica_ports = replica_ports or [free_port() for _ in range(replicas)]
        self.extra = extra or []
        self.quiet = quiet
        self.replicas: list[subprocess.Popen] = []
        self.proxy: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[i]}"

    def _replica_cmd(self, port: int) -> list[str]:
        # `python app.py` is the project's launcher (it turns off Streamlit's legacy pages/ mode); any other
        # script is started with `streamlit run`.
        launch = [sys.executable, str(self.app)] if self.app == (ROOT / "app.py") else \
            [sys.executable, "-m", "streamlit", "run", str(self.app)]
        return launch + ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                         "--browser.gatherUsageStats", "false", *self.extra]

    def start(self) -> "Cluster":
        out = subprocess.DEVNULL if self.quiet else None
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for port in self.replica_ports:
            self.replicas.append(subprocess.Popen(self._replica_cmd(port), cwd=ROOT, stdout=out, stderr=out,
                                                  env=env, start_new_session=True))
        for i in range(self.n):
            wait_healthy(self.replica_url(i))
        ports = self.replica_ports * (3 - self.n)
        env = dict(os.environ, FRONT_ADDR="127.0.0.1", FRONT_PORT=str(self.port), REPLICA1_ADDR="127.0.0.1",
                   REPLICA1_PORT=str(ports[0]), REPLICA2_ADDR="127.0.0.1", REPLICA2_PORT=str(ports[1]))
        self.proxy = subprocess.Popen([haproxy_binary() or "haproxy", "-db", "-f", str(CONFIG)], env=env,
                                      stdout=out, stderr=out, start_new_session=True)
        wait_healthy(self.url, timeout=20)
        time.sleep(2.5)      # haproxy marks servers up after `rise 2` checks, 1 s apart
        return self

    def stop_replica(self, i: int) -> None:
        """Stop replica `i` (SIGTERM, then SIGKILL): its sessions end, the proxy marks it down."""
        proc = self.replicas[i]
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        for proc in ([self.proxy] if self.proxy else []) + self.replicas:
            if proc.poll() is None:
                proc.terminate()
        for proc in ([self.proxy] if self.proxy else []) + self.replicas:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def __enter__(self) -> "Cluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=str(ROOT / "app.py"))
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--replica-ports", type=int, nargs="*", default=None)
    args = ap.parse_args(argv)
    if haproxy_binary() is None:
        print("haproxy is not installed (Debian: apt-get install haproxy)", file=sys.stderr)
        return 1
    ports = args.replica_ports or [8501 + i for i in range(args.replicas)]
    with Cluster(args.app, args.replicas, args.port, ports, quiet=False) as cluster:
        print(f"serving {args.replicas} replica(s) {ports} behind {cluster.url}; Ctrl-C stops", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
