"""Engineering › Docker: this app's own Dockerfile, layer by layer, its cache and lint; the container seen from
inside; the kinds of virtualisation and the commands that build and run this app."""
from pathlib import Path

import pandas as pd
import streamlit as st

from engine.engineering import docker
from engine.figures.engineering import docker as figs
from ui import fmt, formula, labels, show_source, t, warm

MAX_CHARS = 20_000     # the edited Dockerfile is bounded before it is parsed or linted

st.title(t("docker.title"))
st.markdown(t("docker.intro"))


@st.cache_data(max_entries=32, show_spinner=False)
def lint(text: str, use_hadolint: bool) -> docker.LintResult:
    return docker.lint(text, use_hadolint=use_hadolint)


def scenario_ui(project_text: str) -> tuple[str, str]:
    """The edit to simulate and, for "text", the reader's Dockerfile."""
    name = st.radio(t("docker.cache.scenario"), docker.SCENARIOS, format_func=fmt("docker.scenario"),
                    key="docker.scenario", horizontal=True, bind="query-params")
    text = project_text
    if name == "text":
        text = st.text_area(t("docker.cache.edit"), project_text, height=360, max_chars=MAX_CHARS,
                            key="docker.text", bind="query-params")[:MAX_CHARS]
    return name, text


# once per process (engine, single-flight, in a child process); a progress bar while a cold server computes it
project_text, ctx, pip = warm.wait_for(docker.project_files, what=t("docker.preparing"), expect_s=1.5)
if not project_text:
    st.error(t("docker.no_dockerfile"))
    st.stop()
digests = {f.path: f.digest for f in ctx.files}
sizes = {f.path: f.size for f in ctx.files}

# ---- 1. the layers and their cache keys --------------------------------------------------------------------------
st.header(t("docker.cache.header"))
st.markdown(t("docker.cache.text"))
formula("docker.key_formula")
name, text = scenario_ui(project_text)
cached_text, new_text, changed = docker.scenario(name, project_text, digests, text)
sim = docker.simulate(cached_text, new_text, digests, changed, sizes=sizes, pip_mb=pip.total_mb)
if name != "text":
    st.code(new_text, language="dockerfile")
st.markdown(t(f"docker.explain.{name}"))
problems = docker.validate(new_text)
if problems:
    st.error("\n".join([t("docker.invalid.header")] + [
        "- " + t(f"docker.invalid.{p.code}", line=p.line, name=p.name) for p in problems]))
c1, c2, c3 = st.columns(3)
c1.metric(t("docker.cache.rebuilt"), f"{len(sim.rebuilt)} / {len(sim.steps)}" if not problems else "—")
c2.metric(t("docker.cache.rebuilt_mb"), f"{sim.rebuilt_mb:,.1f} MB" if not problems else "—")
c3.metric(t("docker.cache.download_mb"), f"≈ {sim.download_mb:,.0f} MB" if not problems else "—")
rows = [{t("docker.col.n"): i + 1, t("docker.col.instr"): s.instr.text[:90],
         t("docker.col.adds"): t(f"docker.adds.{s.instr.cmd}") if s.instr.cmd in docker.KNOWN else "",
         t("docker.col.key"): s.key[:12],
         t("docker.col.state"): t("docker.labels.skipped" if not s.used else "docker.labels.cached" if s.cached
                                  else "docker.labels.rebuilt"),
         "MB": round(s.size_mb, 2)} for i, s in enumerate(sim.steps)]
if not problems:
    st.dataframe(rows, hide_index=True)
    st.plotly_chart(figs.plot_layers(sim, labels=labels("docker.labels")), key="docker.fig_layers")
top = ", ".join(f"{n} {mb:,.0f} MB" for n, mb in pip.top[:5])
st.caption(t("docker.cache.pip_caption", total=pip.total_mb, n=pip.n_packages, top=top))
show_source(docker.step_key)

st.subheader(t("docker.context.header"))
st.markdown(t("docker.context.text", with_mb=ctx.total_bytes / 2**20, n_with=len(ctx.files),
              without_mb=ctx.all_bytes / 2**20, n_without=ctx.all_count))
st.plotly_chart(figs.plot_context(ctx, labels=labels("docker.labels")), key="docker.fig_context")
st.caption(t("docker.context.caption"))

# ---- 2. lint -----------------------------------------------------------------------------------------------------
st.header(t("docker.lint.header"))
st.markdown(t("docker.lint.text"))
use_hadolint = st.toggle(t("docker.lint.use_hadolint"), value=True, key="docker.use_hadolint", bind="query-params")
result = lint(text, use_hadolint)
st.caption(t("docker.lint.tool_hadolint", version=result.version) if result.tool == "hadolint"
           else t("docker.lint.tool_own", n=len(docker.OWN_RULES), rules=", ".join(docker.OWN_RULES)))
if result.findings:
    # a table, not a dataframe: long messages wrap instead of being cut; levels and messages in the reader's
    # language (rule ids kept), hadolint's own English where this chapter has no translation of a rule
    messages, levels = labels("docker.rule"), labels("docker.level")
    st.table(pd.DataFrame([{
        t("docker.col.line"): f.line, t("docker.col.rule"): f.code, t("docker.col.level"): levels.get(f.level, f.level),
        t("docker.col.message"): messages.get(f.code, f.message),
        t("docker.col.practice"): t(f"docker.practice.{docker.practice_of(f.code)}")
        if docker.practice_of(f.code) else ""} for f in result.findings]).set_index(t("docker.col.line")))
    untranslated = sorted({f.code for f in result.findings} - set(messages))
    if untranslated:
        st.caption(t("docker.lint.untranslated", codes=", ".join(untranslated)))
elif not problems:
    st.success(t("docker.lint.clean"))
st.markdown(t("docker.lint.practices"))
st.markdown(t("docker.lint.fixed"))

# ---- 3. a container from the inside -----------------------------------------------------------------------------
st.header(t("docker.inside.header"))
st.markdown(t("docker.inside.text"))
me = docker.inspect_self()
if me.in_container:
    st.success(t("docker.inside.yes", signals=", ".join(t(f"docker.signal.{s}") for s in me.signals)))
else:
    st.info(t("docker.inside.no"))
none = t("docker.inside.none")
g1, g2, g3, g4 = st.columns(4)
g1.metric(t("docker.inside.cgroup"), f"v{me.cgroup_version}" if me.cgroup_version else none)
g2.metric(t("docker.inside.memory"), f"{me.memory_limit / 2**20:,.0f} MiB" if me.memory_limit else none)
g3.metric(t("docker.inside.cpu"), f"{me.cpu_limit:g}" if me.cpu_limit else none)
g4.metric(t("docker.inside.pid"), f"{me.pid}" + (" (PID 1)" if me.pid == 1 else ""))
st.caption(t("docker.inside.caption", pid1=me.pid1_name or none, uid=me.uid if me.uid is not None else none,
             root_fs=me.root_fstype or none,
             uid_map=" ".join(map(str, me.uid_map)) if me.uid_map else none))
show_source(docker.inspect_self)

# ---- 4. kinds of virtualisation, commands, GPU, Podman, corrections -----------------------------------------------
st.header(t("docker.kinds.header"))
st.markdown(t("docker.kinds.table"))
st.header(t("docker.commands.header"))
st.markdown(t("docker.commands.table"))
st.header(t("docker.more.header"))
st.markdown(t("docker.more.text"))
st.header(t("docker.class.header"))
st.markdown(t("docker.class.text"))
if Path(docker.ROOT / "deploy").is_dir():
    st.caption(t("docker.class.caption"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("docker")
