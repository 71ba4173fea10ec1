"""Shareable setups (issue #25): a chapter's settings live in its URL (widgets bound with `bind="query-params"`);
this module adds the sidebar's "copy link to this setup" and the note for link values that were not used."""
from __future__ import annotations

import streamlit as st

from ui import t

NOT_SETTINGS = {"lang", "item", "embed", "embed_options"}     # the URL's own keys, not a chapter's settings

_COPY_JS = """
export default function(component) {
  const { data, parentElement } = component;
  const button = parentElement.querySelector("button");
  const note = parentElement.querySelector("span");
  button.textContent = data.label;
  button.onclick = async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      note.textContent = data.copied;
    } catch (e) {                       // no clipboard (plain http on another host): show the address to copy
      note.textContent = url;
    }
  };
}
"""
_COPY_CSS = """
button { font: inherit; padding: .35rem .75rem; border-radius: .5rem; cursor: pointer;
         border: 1px solid var(--st-border-color, #d6d6d9); background: var(--st-background-color, #fff);
         color: var(--st-text-color, #31333f); }
button:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
span { display: block; font-size: .8rem; color: var(--st-text-color, #31333f); opacity: .75; word-break: break-all;
       margin-top: .25rem; }
"""
_copy = st.components.v2.component("kicks_copy_link", html="<button type='button'></button><span></span>",
                                   css=_COPY_CSS, js=_COPY_JS)


def copy_link_ui() -> None:
    """The sidebar's button that copies the page's address, which holds every setting of the chapter."""
    with st.sidebar:
        _copy(key="share.copy", data={"label": t("common.share.copy"), "copied": t("common.share.copied")})
        st.caption(t("common.share.help"))


def url_settings() -> dict[str, list[str]]:
    """The settings the URL asked for at the start of this run (before the page's widgets took or refused them)."""
    return {k: st.query_params.get_all(k) for k in st.query_params if k not in NOT_SETTINGS}


def note_ignored(asked: dict[str, list[str]]) -> None:
    """After the page ran: a short note naming link values that no widget took (unknown, invalid, out of range, or
    the default, which Streamlit drops from the URL). Once per link and page, never an exception."""
    if not asked:
        return
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    marker = repr(sorted(asked.items()))
    if ctx is None or st.session_state.get("share.checked") == marker:
        return
    st.session_state["share.checked"] = marker
    try:
        with ctx.session_state.query_params() as qp:
            ignored = [k for k in asked if not qp.is_bound(k) or k not in qp]
    except Exception:                    # noqa: BLE001 — Streamlit internals changed: say nothing rather than fail
        return
    if ignored:
        names = ", ".join(k if len(k) <= 40 else k[:40] + "…" for k in ignored[:6]) + (" …" if len(ignored) > 6 else "")
        st.toast(t("common.share.ignored", names=names), icon=":material/link_off:")
