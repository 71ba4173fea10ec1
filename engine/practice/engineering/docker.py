"""Practice items for Engineering › Docker (format: engine/common/practice.py). Every answer comes from the chapter's
engine: the layer-cache simulation (`simulate`), the .dockerignore matcher (`parse_dockerignore` / `is_ignored`)
and the lint rules (`own_rules`, `practice_of`)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import Choice, Item, Redraw, code_choices, same, shuffled, text
from engine.engineering import docker

S = "docker"
CTX = {"app.py": "a1", "requirements.txt": "r1", "README.md": "m1", "src/model.py": "s1", "config.yaml": "c1"}
PIP = "RUN pip install -r requirements.txt"
APT = "RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*"


def _numbered(text_: str) -> str:
    return "\n".join(f"{i + 1:>2}  {line}" for i, line in enumerate(text_.strip("\n").split("\n")))


def _steps(idx) -> dict:
    idx = sorted(int(i) + 1 for i in idx)
    return text(S, "practice.q_cache.none") if not idx else text(S, "practice.q_cache.steps",
                                                                  steps=", ".join(map(str, idx)))


# ------------------------------------------------------------------------------------------ which steps rebuild
def _dockerfile(rng: np.random.Generator) -> list[str]:
    lines = ["FROM python:3.11-slim", "WORKDIR /app"]
    if rng.random() < 0.5:
        lines.append("ENV PIP_NO_CACHE_DIR=1")
    if rng.random() < 0.4:
        lines.append(APT)
    order = ("good", "bad", "split")[int(rng.integers(3))]
    if order == "good":
        lines += ["COPY requirements.txt .", PIP, "COPY . ."]
    elif order == "bad":
        lines += ["COPY . .", PIP]
    else:
        lines += ["COPY requirements.txt .", PIP, "COPY src/ src/", "COPY app.py ."]
    if rng.random() < 0.4:
        lines.append("EXPOSE 8501")
    lines.append('CMD ["python", "app.py"]')
    return lines


def cache_rebuild(rng: np.random.Generator) -> Item:
    """Which steps run again after an edit (a file or one instruction)? The engine's cache simulation answers;
    distractors: only the directly affected steps, the pip step kept, nothing, everything, the steps after the
    first miss only."""
    lines = _dockerfile(rng)
    old = "\n".join(lines) + "\n"
    edits = [("file", f) for f in CTX] + [("line", i) for i, ln in enumerate(lines)
                                          if ln.startswith(("ENV", "RUN apt", "EXPOSE"))]
    kind, what = edits[int(rng.integers(len(edits)))]
    changed: dict[str, str] = {}
    new_lines = list(lines)
    if kind == "file":
        changed = {what: docker.edited_digest(CTX[what])}
        edit = text(S, "practice.q_cache.edit_file", file=what)
    else:
        new_lines[what] = {"ENV": "ENV PIP_NO_CACHE_DIR=0", "RUN": APT.replace("git", "git curl"),
                           "EXPOSE": "EXPOSE 8080"}[lines[what].split()[0]]
        edit = text(S, "practice.q_cache.edit_line", n=what + 1, old=lines[what], new=new_lines[what])
    new = "\n".join(new_lines) + "\n"
    sim = docker.simulate(old, new, CTX, changed)                           # the chapter's engine
    rebuilt = list(sim.rebuilt)
    instrs = docker.parse_dockerfile(new)
    # the steps an edit touches directly: the edited line, or a COPY that takes the edited file
    direct = [i for i, ins in enumerate(instrs)
              if (kind == "line" and i == what) or (kind == "file" and ins.cmd in ("COPY", "ADD")
                                                   and what in docker._sources(ins, CTX))]
    pip = next(i for i, ins in enumerate(instrs) if ins.text == PIP)
    mistakes = [(direct, "direct"),
                ([i for i in rebuilt if i != pip] if pip in rebuilt and what != "requirements.txt" else None,
                 "pip_kept"),
                ([], "nothing"), (list(range(len(instrs))), "everything"), (rebuilt[1:], "after_only")]
    right = _steps(rebuilt)
    picked, shown = [Choice(right, True, text(S, "practice.q_cache.right"))], {right["en"]}
    for idx, key in mistakes:
        if idx is None:
            continue
        label = _steps(idx)
        if label["en"] not in shown:
            shown.add(label["en"])
            picked.append(Choice(label, False, text(S, f"practice.q_cache.{key}")))
        if len(picked) == 4:
            break
    if len(picked) < 4:
        raise Redraw("mistakes coincide")
    first = rebuilt[0] + 1 if rebuilt else 0
    return Item(kind="compute", stem=text(S, "practice.q_cache.stem", edit=edit), code=_numbered(old),
                choices=shuffled(rng, picked),
                solution=text(S, "practice.q_cache.solution_none" if not rebuilt else "practice.q_cache.solution",
                              first=first, last=len(instrs), steps=right),
                params={"old": old, "new": new, "changed": sorted(changed), "ctx": CTX},
                answer=float(len(rebuilt)), tolerance=0)


# ------------------------------------------------------------------------------------------------ .dockerignore
IGNORE_GROUPS = (("*.md", "!README.md"), ("data",), ("**/__pycache__",), ("*.pyc",), ("**/*.log", "!logs/keep.log"),
                 (".git",), ("tests/",), ("docs/*.png",), ("notebooks",))
PATHS = ("README.md", "CHANGELOG.md", "docs/guide.md", "docs/a.png", "docs/img/b.png", "data/train.csv",
         "src/__pycache__/model.cpython-311.pyc", "app.pyc", "src/util.pyc", "logs/run.log", "logs/keep.log",
         "debug.log", ".git/HEAD", "tests/test_app.py", "src/tests/test_x.py", "notebooks/eda.ipynb", "app.py",
         "src/model.py", "requirements.txt")


def _decider(path: str, rules, lines: list[str]) -> tuple[bool, str | None]:
    """(ignored, the line that decided it) — the last rule matching the path or a parent directory; `lines` are the
    .dockerignore's lines as written, one per rule."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    ignored, pat = False, None
    for (exclude, rx), line in zip(rules, lines):
        if any(rx.match(p) for p in prefixes):
            ignored, pat = exclude, line
    return ignored, pat


def _why(path: str, ignored: bool, pat: str | None, patterns: list[str]) -> dict:
    if ignored:
        return text(S, "practice.q_ignore.why_excluded", path=path, pat=pat)
    if pat is not None:
        return text(S, "practice.q_ignore.why_reincluded", path=path, pat=pat)
    root_only = next((p for p in patterns if not p.startswith(("!", "**")) and "/" in path
                      and docker.IgnorePattern(p).match(path.rsplit("/", 1)[1])), None)
    if root_only:
        return text(S, "practice.q_ignore.why_root_only", path=path, pat=root_only)
    return text(S, "practice.q_ignore.why_no_match", path=path)


def ignore_match(rng: np.random.Generator) -> Item:
    """Which path is sent to the builder (or, half the seeds, left out) under a drawn .dockerignore? The engine's
    matcher decides; the feedback names the pattern that decided each path (last match wins; `*` stays in one
    directory level, so `*.md` matches only at the context root)."""
    groups = [IGNORE_GROUPS[i] for i in sorted(rng.choice(len(IGNORE_GROUPS), int(rng.integers(3, 5)), replace=False))]
    patterns: list[str] = []
    for g in groups:
        if len(g) == 2 and rng.random() < 0.3:
            continue_with = [g[0]]                                        # the exception left out
        elif len(g) == 2 and rng.random() < 0.3:
            continue_with = [g[1], g[0]]                                  # the exception before the pattern: overridden
        else:
            continue_with = list(g)
        patterns += continue_with
    rules = docker.parse_dockerignore("\n".join(patterns) + "\n")         # the chapter's engine
    verdict = {p: docker.is_ignored(p, rules) for p in PATHS}
    sent = [p for p in PATHS if not verdict[p]]
    left = [p for p in PATHS if verdict[p]]
    ask_sent = bool(rng.integers(2))
    pool_right, pool_wrong = (sent, left) if ask_sent else (left, sent)
    if not pool_right or len(pool_wrong) < 3:
        raise Redraw("not enough paths on one side")
    right = pool_right[int(rng.integers(len(pool_right)))]
    wrong = [pool_wrong[i] for i in rng.choice(len(pool_wrong), 3, replace=False)]
    choices = []
    for p in [right] + wrong:
        ign, pat = _decider(p, rules, patterns)
        assert ign == verdict[p]
        fb = _why(p, ign, pat, patterns)
        choices.append(Choice(same(f"`{p}`"), p == right,
                              text(S, "practice.q_ignore.right", why=fb) if p == right else fb))
    return Item(kind="compute", stem=text(S, "practice.q_ignore.stem_sent" if ask_sent else
                                          "practice.q_ignore.stem_left"),
                code="\n".join(patterns), choices=shuffled(rng, choices),
                solution=text(S, "practice.q_ignore.solution", path=right,
                              why=_why(right, verdict[right], _decider(right, rules, patterns)[1], patterns)),
                params={"dockerignore": "\n".join(patterns) + "\n", "paths": [right] + wrong, "ask_sent": ask_sent},
                answer=None)


# -------------------------------------------------------------------------------- the notes' best practices
BASE = ["FROM python:3.11-slim", "WORKDIR /app", "ENV PIP_NO_CACHE_DIR=1", "COPY requirements.txt .", PIP,
        "COPY . .", "USER 10001:10001", 'CMD ["python", "app.py"]']
VIOLATIONS = {
    "latest": lambda L: [ln.replace("python:3.11-slim", "python:latest") for ln in L],
    "untagged": lambda L: [ln.replace("python:3.11-slim", "python") for ln in L],
    "pip_cache": lambda L: [ln for ln in L if not ln.startswith("ENV PIP_NO_CACHE_DIR")],
    "apt_lists": lambda L: L[:3] + ["RUN apt-get update && apt-get install -y --no-install-recommends git"] + L[3:],
    "recommends": lambda L: L[:3] + ["RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*"]
    + L[3:],
    "two_runs": lambda L: L[:6] + ["RUN mkdir -p /app/data", "RUN chmod 755 /app/data"] + L[6:],
    "root": lambda L: [("USER root" if ln.startswith("USER") else ln) for ln in L],
    "shell_cmd": lambda L: [("CMD python app.py" if ln.startswith("CMD") else ln) for ln in L],
    "cd": lambda L: L[:6] + ["RUN cd /app/src && python -m compileall ."] + L[6:],
    "relative_workdir": lambda L: [("WORKDIR app" if ln.startswith("WORKDIR") else ln) for ln in L],
    "add": lambda L: [("ADD . ." if ln == "COPY . ." else ln) for ln in L],
}
PRACTICE_KEYS = tuple(docker.PRACTICES)


def lint_practice(rng: np.random.Generator) -> Item:
    """A Dockerfile that breaks one of the course notes' best practices (or the ones the page adds): which one?
    The chapter's lint rules (`own_rules`) find the rule id and `practice_of` maps it to the practice."""
    name = list(VIOLATIONS)[int(rng.integers(len(VIOLATIONS)))]
    lines = VIOLATIONS[name](list(BASE))
    if rng.random() < 0.5:
        lines.insert(len(lines) - 1, "EXPOSE 8501")
    if rng.random() < 0.5:
        lines.insert(1, 'LABEL org.opencontainers.image.title="kicks"')
    dockerfile = "\n".join(lines) + "\n"
    findings = docker.own_rules(dockerfile)                                 # the chapter's engine
    practices = {docker.practice_of(f.code) for f in findings}
    if len(practices) != 1 or None in practices:
        raise Redraw("not exactly one practice broken")
    right = practices.pop()
    codes = ", ".join(sorted({f.code for f in findings}))
    lines_hit = ", ".join(str(f.line) for f in findings)
    others = [k for k in PRACTICE_KEYS if k != right]
    wrong = [others[i] for i in rng.choice(len(others), 3, replace=False)]

    def label(k: str) -> dict:
        rule_ids = ", ".join(docker.PRACTICES[k])
        return text(S, "practice.q_lint.label", name=text(S, f"practice.{k}"),
                    rules=rule_ids if rule_ids else text(S, "practice.q_lint.no_rule"))
    choices = [Choice(label(right), True, text(S, "practice.q_lint.right", codes=codes, line=lines_hit))]
    choices += [Choice(label(k), False, text(S, f"practice.q_lint.why.{k}")) for k in wrong]
    return Item(kind="statement", stem=text(S, "practice.q_lint.stem"), code=_numbered(dockerfile),
                choices=shuffled(rng, choices),
                solution=text(S, "practice.q_lint.solution", codes=codes, line=lines_hit,
                              fix=text(S, f"practice.q_lint.fix.{name}")),
                setup={"docker.scenario": text(S, "scenario.text"), "docker.text": dockerfile},   # radio: its label
                params={"dockerfile": dockerfile, "violation": name, "practice": right})


# ---------------------------------------------------------------------------- cache-friendly order, a blank
BLANK_LINES = {
    "right": "COPY requirements.txt .",
    "copy_all": "COPY . .",
    "add_all": "ADD . .",
    "copy_app_too": "COPY app.py requirements.txt ./",
    "copy_src_too": "COPY src/ requirements.txt ./",
    "copy_md_too": "COPY *.md requirements.txt ./",
    "copy_config_too": "COPY config.yaml requirements.txt ./",
}
PIP_LINES = (PIP, "RUN pip install --no-cache-dir -r requirements.txt", "RUN python -m pip install -r requirements.txt")


def cache_blank(rng: np.random.Generator) -> Item:
    """Which line goes before `pip install` so that editing a file does not reinstall the packages? Each
    candidate's Dockerfile is run through the engine's cache simulation with the edit."""
    edited = str(rng.choice(["app.py", "src/model.py", "README.md", "config.yaml"]))
    head = ["FROM python:3.11-slim"]
    if rng.random() < 0.4:
        head.append('LABEL org.opencontainers.image.title="kicks"')
    head.append("WORKDIR /app")
    if rng.random() < 0.5:
        head.append("ENV PIP_NO_CACHE_DIR=1")
    if rng.random() < 0.4:
        head.append(APT)
    pip_line = PIP_LINES[int(rng.integers(len(PIP_LINES)))]
    tail = [pip_line, "COPY . ."] + (["USER 10001:10001"] if rng.random() < 0.5 else []) \
        + (["EXPOSE 8501"] if rng.random() < 0.4 else []) + ['CMD ["python", "app.py"]']
    pip_at = len(head) + 1

    def reinstalls(line: str) -> bool:
        text_ = "\n".join(head + [line] + tail) + "\n"
        sim = docker.simulate(text_, text_, CTX, {edited: docker.edited_digest(CTX[edited])})   # the engine
        return pip_at in sim.rebuilt

    if reinstalls(BLANK_LINES["right"]):
        raise Redraw("the right line reinstalls")
    wrong = [(ln, text(S, f"practice.q_blank.{k}", file=edited)) for k, ln in BLANK_LINES.items()
             if k != "right" and reinstalls(ln)]
    if len(wrong) < 3:
        raise Redraw("a wrong line keeps the cache for this edit")
    code = "\n".join(head + ["____"] + tail)
    return Item(kind="blank", stem=text(S, "practice.q_blank.stem", file=edited), code=code,
                choices=code_choices(rng, (BLANK_LINES["right"], text(S, "practice.q_blank.right", file=edited)),
                                     wrong),
                solution=text(S, "practice.q_blank.solution", file=edited, n=pip_at + 1),
                params={"head": head, "tail": tail, "edited": edited})


GENERATORS = (cache_rebuild, ignore_match, lint_practice, cache_blank)
