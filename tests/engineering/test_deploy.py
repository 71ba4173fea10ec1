"""deploy/: the Kubernetes manifests and compose file validate offline; HAProxy in front of two replicas keeps
every reader on its own replica (websocket and uploads), also when one replica is stopped mid-run."""
from __future__ import annotations

import importlib.util
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

DEPLOY = ROOT / "deploy"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
YAMLLINT = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"


def load_serve():
    spec = importlib.util.spec_from_file_location("kicks_serve", DEPLOY / "haproxy" / "serve.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def resources() -> dict[str, dict]:
    return {d["kind"]: d for p in MANIFESTS for d in docs(p)}


# ---- offline validation ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", MANIFESTS + [DEPLOY / "compose.yaml"], ids=lambda p: p.name)
def test_yamllint(path):
    from yamllint import config, linter

    problems = list(linter.run(path.read_text(), config.YamlLintConfig(YAMLLINT), str(path)))
    assert problems == [], [str(p) for p in problems]


@pytest.mark.parametrize("path", [p for p in MANIFESTS if p.name != "kustomization.yaml"], ids=lambda p: p.name)
def test_manifests_validate_against_kubernetes_schema(path):
    import kubernetes_validate

    for doc in docs(path):
        kubernetes_validate.validate(doc, "1.33", strict=True)     # raises ValidationError on any problem


def test_kustomization_lists_every_manifest():
    kust = docs(DEPLOY / "kubernetes" / "kustomization.yaml")[0]
    assert sorted(kust["resources"]) == sorted(p.name for p in MANIFESTS if p.name != "kustomization.yaml")


def test_deployment_probes_resources_and_affinity():
    res = resources()
    pod = res["Deployment"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/_stcore/script-health-check"
    assert {"name": "STREAMLIT_SERVER_SCRIPT_HEALTH_CHECK_ENABLED", "value": "true"} in c["env"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert c["resources"]["requests"]["memory"] == "1536Mi" and c["resources"]["limits"]["memory"] == "3Gi"
    assert pod["securityContext"]["runAsUser"] == 10001
    assert "USER 10001:10001" in (ROOT / "Dockerfile").read_text()     # the same numeric user as the image
    notes = res["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert res["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == \
        res["Service"]["metadata"]["name"]
    hpa = res["HorizontalPodAutoscaler"]["spec"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu" and hpa["minReplicas"] >= 2


def test_compose_file():
    compose = docs(DEPLOY / "compose.yaml")[0]
    services = compose["services"]
    assert {"kicks1", "kicks2", "proxy"} <= set(services)
    assert services["kicks1"]["build"]["context"] == ".." and (DEPLOY / ".." / "Dockerfile").is_file()
    proxy = services["proxy"]
    assert proxy["environment"]["REPLICA1_ADDR"] == "kicks1" and proxy["environment"]["REPLICA2_ADDR"] == "kicks2"
    mounted = proxy["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).resolve() == (DEPLOY / "haproxy" / "haproxy.cfg").resolve()
    assert all(dep["condition"] == "service_healthy" for dep in proxy["depends_on"].values())


def test_haproxy_config_is_valid():
    binary = load_serve().haproxy_binary()
    if binary is None:
        pytest.skip("haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)")
    env = dict(FRONT_ADDR="127.0.0.1", FRONT_PORT="8080", REPLICA1_ADDR="127.0.0.1", REPLICA1_PORT="8501",
               REPLICA2_ADDR="127.0.0.1", REPLICA2_PORT="8502", PATH="/usr/sbin:/usr/bin:/bin")
    out = subprocess.run([binary, "-c", "-f", str(DEPLOY / "haproxy" / "haproxy.cfg")], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    cfg = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    assert "cookie KICKS_REPLICA insert" in cfg and "timeout tunnel" in cfg


# ---- proved here: two replicas behind HAProxy ------------------------------------------------------------------
N_SESSIONS = 12


def _session(url: str, seed: int):
    from oracles.docker import StreamlitSession, answer_of, png

    s = StreamlitSession(url).connect()
    data, expected = png(seed)
    return s, expected, answer_of(s.upload(f"{seed}.png", data))


@pytest.mark.slow
def test_two_replicas_keep_each_session_on_its_replica():
    serve = load_serve()
    if serve.haproxy_binary() is None:
        pytest.skip("haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)")
    from oracles.docker import SessionError, StreamlitSession, answer_of, png

    probe = ROOT / "tests" / "engineering" / "replica_probe_app.py"
    wrong = 0
    with serve.Cluster(probe, replicas=2) as cluster:
        # 1. N readers at once, each uploads its own image through the proxy and gets its own answer back
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda k: _session(cluster.url, k), range(N_SESSIONS)))
        pid_of: dict[str, set[int]] = {}
        for s, expected, got in results:
            assert got is not None, s.markdown
            wrong += got[0] != expected
            pid_of.setdefault(s.replica, set()).add(got[1])
        assert set(pid_of) == {"r1", "r2"}                      # round robin used both replicas
        assert all(len(p) == 1 for p in pid_of.values())        # a cookie always reached the same process
        assert pid_of["r1"] != pid_of["r2"]
        [pid_r2] = pid_of["r2"]

        # why affinity matters: the upload URL of a session on r2, sent to r1 directly, is refused
        s2 = next(s for s, _, _ in results if s.replica == "r2")
        import requests
        r = requests.put(f"{cluster.replica_url(0)}/_stcore/upload_file/{s2.session_id}/x",
                         files={"UploadedFile": ("x.png", b"x")}, timeout=10,
                         headers={"X-Xsrftoken": s2.http.cookies.get("_streamlit_xsrf", "")},
                         cookies={"_streamlit_xsrf": s2.http.cookies.get("_streamlit_xsrf", "")})
        assert r.status_code == 400 and "session" in r.text.lower()

        # 2. stop r1 mid-run
        cluster.stop_replica(0)
        for k, (s, expected, _) in enumerate(results):
            data, expected = png(100 + k)
            try:
                got = answer_of(s.upload(f"b{k}.png", data))
            except SessionError:
                assert s.replica == "r1"                        # only sessions on the stopped replica end
                got = None
            if got is not None:
                assert s.replica == "r2" and got[1] == pid_r2   # sessions on r2 carry on
                wrong += got[0] != expected
            if s.replica == "r1":
                assert got is None
                # the reader's browser reconnects with its old cookie: the proxy sends it to the survivor
                s.close()
                again = StreamlitSession(cluster.url)
                again.http.cookies.update(s.http.cookies)
                again.connect()
                data, expected = png(200 + k)
                got = answer_of(again.upload(f"c{k}.png", data))
                assert got is not None and got[1] == pid_r2
                wrong += got[0] != expected
                again.close()
            s.close()
        # 3. new readers all go to the survivor
        for k in range(4):
            s, expected, got = _session(cluster.url, 300 + k)
            assert got is not None and got[1] == pid_r2 and s.replica == "r2"
            wrong += got[0] != expected
            s.close()
    assert wrong == 0


@pytest.mark.slow
def test_readiness_probe_runs_the_app_script():
    """The Deployment's readiness path answers 200 "ok" on the real app.py with the env the manifest sets."""
    import os
    import sys
    import urllib.request

    serve = load_serve()
    pod = resources()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = dict(os.environ, **{e["name"]: e["value"] for e in pod["env"]})
    port = serve.free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--server.port", str(port), "--server.address",
                             "127.0.0.1", "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        serve.wait_healthy(url)
        path = pod["readinessProbe"]["httpGet"]["path"]
        with urllib.request.urlopen(url + path, timeout=60) as r:
            assert r.status == 200 and r.read() == b"ok"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
