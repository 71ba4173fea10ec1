"""RL › AlphaGo's search: tic-tac-toe against Monte-Carlo tree search with PUCT; the tree growing simulation by
simulation with N, W, Q, P per edge; the move converging to a minimax-optimal one; π ∝ N^{1/τ}; a policy-value
network trained live by self-play (AlphaGo Zero) and on expert games (AlphaGo's SL stage), and the search with and
without it.

The game is the move list in the text box (bound to the URL, so a link carries the game); the search's replies are
computed in the buttons' callbacks from the same settings, seeded by the game, so a link replays the same game."""

import pandas as pd
import streamlit as st

from engine.rl import alphago as ag
from engine.figures.rl import alphago as figs
from ui import charts, fmt, formula, labels, show_source, t
from ui import training

K = "alphago"
st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
with st.expander(t(f"{K}.notes_header"), expanded=False):
    st.markdown(t(f"{K}.notes"))
lab = labels(f"{K}.labels")

SIMS = (1, 800, 200)                                 # min, max, default simulations per move
C_PUCTS = (0.1, 0.5, 1.0, 1.5, 2.0, 4.0, 10.0)
TAUS = (0.0, 0.25, 0.5, 1.0, 2.0)
TRAP = (0, 4, 8)                                     # X corner, O centre, X opposite corner: only an edge saves O


def search_ui() -> tuple[ag.SearchConfig, float, int]:
    """Sidebar: simulations, c_puct, τ, seed of the search that plays against the reader."""
    with st.sidebar:
        st.subheader(t(f"{K}.controls.header"))
        n = st.slider(t(f"{K}.controls.sims"), SIMS[0], SIMS[1], SIMS[2], key=f"{K}.sims", bind="query-params")
        c = st.select_slider(t(f"{K}.controls.c_puct"), C_PUCTS, 1.5, key=f"{K}.c_puct", bind="query-params")
        tau = st.select_slider(t(f"{K}.controls.tau"), TAUS, 0.0, key=f"{K}.tau", bind="query-params")
        seed = st.number_input(t(f"{K}.controls.seed"), 0, 9999, 0, key=f"{K}.seed", bind="query-params")
    return ag.SearchConfig(n_sims=int(n), c_puct=float(c)), float(tau), int(seed)


def _state_search() -> tuple[ag.SearchConfig, float, int]:
    """The sidebar's settings as a callback sees them (before the widgets of the next run exist)."""
    s = st.session_state
    n = min(max(int(s.get(f"{K}.sims", SIMS[2]) or SIMS[2]), SIMS[0]), SIMS[1])
    c = s.get(f"{K}.c_puct", 1.5)
    tau = s.get(f"{K}.tau", 0.0)
    seed = s.get(f"{K}.seed", 0)
    return (ag.SearchConfig(n_sims=n, c_puct=float(c if c in C_PUCTS else 1.5)),
            float(tau if tau in TAUS else 0.0), int(seed if isinstance(seed, int) else 0))


@st.cache_data(max_entries=64, show_spinner=False)
def searched(moves: tuple, n_sims: int, c_puct: float, seed: int) -> ag.Search:
    return ag.search_at(moves, ag.SearchConfig(n_sims=n_sims, c_puct=c_puct), seed)


def _reply_if_due(moves: list, human: int) -> list:
    board = ag.replay(moves)
    if ag.winner(board) is None and ag.to_move(board) != human:
        cfg, tau, seed = _state_search()
        s = searched(tuple(moves), cfg.n_sims, cfg.c_puct, seed)
        moves = moves + [ag.pick(s, tau, seed, moves)]
    return moves


def _human() -> int:
    return 1 if st.session_state.get(f"{K}.side", "x") == "x" else -1


def _on_cell(cell: int) -> None:
    """The reader's move, then the search's reply (both appended to the move list)."""
    parsed = ag.parse_moves(st.session_state.get(f"{K}.moves", ""))
    moves = list(parsed.moves)
    board = ag.replay(moves)
    if ag.winner(board) is not None or board[cell] or ag.to_move(board) != _human():
        return
    st.session_state[f"{K}.moves"] = ag.format_moves(_reply_if_due(moves + [cell], _human()))


def _on_search_move() -> None:
    moves = list(ag.parse_moves(st.session_state.get(f"{K}.moves", "")).moves)
    st.session_state[f"{K}.moves"] = ag.format_moves(_reply_if_due(moves, _human()))


def _on_new() -> None:
    st.session_state[f"{K}.moves"] = ""


cfg, tau, seed = search_ui()

# ---------------------------------------------------------------------------------------- 1. the game
st.header(t(f"{K}.game_header"))
st.markdown(t(f"{K}.game_text"))
side = st.radio(t(f"{K}.side"), ("x", "o"), format_func=fmt(f"{K}.sides"), horizontal=True, key=f"{K}.side",
                on_change=_on_search_move, bind="query-params")      # switching sides: the search moves if due
human = 1 if side == "x" else -1
typed = st.text_input(t(f"{K}.moves"), key=f"{K}.moves", max_chars=ag.MAX_MOVES_CHARS, help=t(f"{K}.moves_help"),
                      bind="query-params")
parsed = ag.parse_moves(typed or "")
if parsed.error:
    st.warning(t(f"{K}.moves_error.{parsed.error}", token=parsed.token, n=len(parsed.moves),
                 kept=ag.format_moves(parsed.moves) or "—"))
moves = list(parsed.moves)
board = ag.replay(moves)
result = ag.winner(board)
# the position the search looks at: the current one, or the one before the last move once the game is over
at_moves = moves if result is None else moves[:-1]
search = searched(tuple(at_moves), cfg.n_sims, cfg.c_puct, seed)
at_board = ag.replay(at_moves)
optimal = ag.optimal_moves(at_board)
hints = st.toggle(t(f"{K}.hints"), True, key=f"{K}.hints", bind="query-params")
left, right = st.columns([1, 1])
with left:
    show = result is None and (hints or ag.to_move(board) != human)      # on your turn the analysis is a hint
    st.plotly_chart(figs.plot_board(board, search.root.N if show else None, optimal if show else (),
                                    moves[-1] if moves else None, labels=lab), key=f"{K}.fig.board")
with right:
    my_turn = result is None and ag.to_move(board) == human
    for r in range(3):
        row = st.columns(3)
        for c in range(3):
            i = 3 * r + c
            row[c].button(figs.MARK[board[i]] or str(i + 1), key=f"{K}.cell.{i}", on_click=_on_cell, args=(i,),
                          disabled=not my_turn or board[i] != 0, width="stretch")
    b1, b2 = st.columns(2)
    b1.button(t(f"{K}.search_move"), key=f"{K}.search_move", on_click=_on_search_move,
              disabled=result is not None or ag.to_move(board) == human, width="stretch")
    b2.button(t(f"{K}.new_game"), key=f"{K}.new_game", on_click=_on_new, width="stretch")
    if result is not None:
        outcome = "draw" if result == 0 else ("you_win" if result == human else "search_wins")
        st.success(t(f"{K}.result.{outcome}"))
    else:
        st.info(t(f"{K}.turn.you" if my_turn else f"{K}.turn.search"))
    mine = ag.value_for(board, human)                  # exact (minimax): +1 forced win, 0 draw, −1 forced loss
    st.caption(t(f"{K}.exact_value", v=t(f"{K}.values.{('loss', 'draw', 'win')[mine + 1]}")))
st.caption(t(f"{K}.board_caption"))

# ---------------------------------------------------------------------------------------- 2. one simulation at a time
st.header(t(f"{K}.tree_header"))
st.markdown(t(f"{K}.tree_text"))
formula(f"{K}.puct")
shown = st.slider(t(f"{K}.shown"), 1, SIMS[1], 12, key=f"{K}.shown", bind="query-params")
k = min(int(shown), cfg.n_sims)
if k < int(shown):
    st.caption(t(f"{K}.shown_clamped", k=k))
partial = searched(tuple(at_moves), k, cfg.c_puct, seed)
tv = ag.tree_view(partial)
st.plotly_chart(figs.plot_tree(tv, labels=lab), key=f"{K}.fig.tree")
st.caption(t(f"{K}.tree_caption", nodes=partial.nodes, hidden=tv.hidden))
last = partial.sims[-1]
st.markdown(t(f"{K}.last_sim", k=k, path=" → ".join(str(a + 1) for a in last.path),
              kind=t(f"{K}.kinds.{last.kind}"), v=last.value))
rows = ag.root_table(partial, cfg.c_puct, tau)
st.dataframe(pd.DataFrame([{lab["cell"]: r.cell + 1, "N": r.N, "W": round(r.W, 3), "Q": round(r.Q, 3),
                            "P": round(r.P, 3), "U": round(r.U, 3), "Q + U": round(r.score, 3),
                            lab["exact"]: int(r.exact)} for r in rows]), hide_index=True, width="stretch")
nxt = partial.root.select(cfg.c_puct)                  # the engine's own choice for the next simulation
best = next(r for r in rows if r.cell == nxt)
total = int(partial.root.N.sum())
st.markdown(t(f"{K}.next_pick", cell=best.cell + 1, c=cfg.c_puct, P=best.P, total=total, N=best.N,
              U=best.U, Q=best.Q, score=best.score))
show_source(ag.mcts)

# ---------------------------------------------------------------------------------------- 3. convergence
st.header(t(f"{K}.conv_header"))
st.markdown(t(f"{K}.conv_text"))
legal = ag.legal_moves(at_board)
st.plotly_chart(figs.plot_convergence(search.root_visits, legal, optimal, labels=lab), key=f"{K}.fig.conv")
top = int(search.root.N.argmax())
st.markdown(t(f"{K}.conv_result", n=cfg.n_sims, top=top + 1, optimal=", ".join(str(a + 1) for a in optimal),
              verdict=t(f"{K}.verdict.{'yes' if top in optimal else 'no'}")))

# ---------------------------------------------------------------------------------------- 4. temperature
st.header(t(f"{K}.tau_header"))
formula(f"{K}.pi")
st.markdown(t(f"{K}.tau_text"))
pols = {tv_: ag.visit_policy(search.root.N, tv_) for tv_ in sorted({0.0, 0.5, 1.0, 2.0, tau})}
st.plotly_chart(figs.plot_temperature(search.root.N, pols, legal, labels=lab), key=f"{K}.fig.tau")
pi = pols[tau]
st.markdown(t(f"{K}.tau_numbers", tau=tau, cell=top + 1, N=int(search.root.N[top]), total=cfg.n_sims,
              p=float(pi[top])))
show_source(ag.visit_policy)

# ---------------------------------------------------------------------------------------- 5. train live
st.header(t(f"{K}.train_header"))
st.markdown(t(f"{K}.train_text"))
formula(f"{K}.loss")
tc = st.columns(3)
train_sims = tc[0].select_slider(t(f"{K}.train_sims"), (8, 16, 24, 32, 48), 24, key=f"{K}.train_sims",
                                 bind="query-params")
blunder = tc[1].select_slider(t(f"{K}.blunder"), (0.0, 0.1, 0.2, 0.3, 0.5), 0.2, key=f"{K}.blunder",
                              bind="query-params")
cmp_sims = tc[2].select_slider(t(f"{K}.cmp_sims"), (4, 8, 16, 32, 64), 16, key=f"{K}.cmp_sims",
                               bind="query-params")
cmp_pos = st.radio(t(f"{K}.cmp_pos"), ("trap", "game"), format_func=fmt(f"{K}.positions"), horizontal=True,
                   key=f"{K}.cmp_pos", bind="query-params")
cmp_moves = TRAP if cmp_pos == "trap" else at_moves
cmp_optimal = ag.optimal_moves(ag.replay(cmp_moves))
tcfg = ag.Config(n_sims=int(train_sims), expert_blunder=float(blunder), seed=seed)


@st.cache_data(max_entries=16, show_spinner=False)
def baseline(c: ag.Config) -> float:
    return ag.baseline_search_accuracy(c)


def make(c: ag.Config) -> dict:
    return {"zero": ag.train_zero(c), "alphago": ag.train_alphago(c)}


def draw(run: training.Run) -> None:
    cols = st.columns(len(run.snaps))
    for col, (name, s) in zip(cols, run.snaps.items()):
        m1, m2, m3 = col.columns(3)
        m1.metric(t(f"{K}.metric.policy", name=lab[f"{name}_short"]), f"{s.metrics['optimal_policy']:.0%}")
        m2.metric(t(f"{K}.metric.search"), f"{s.metrics['search_optimal']:.0%}")
        m3.metric(t(f"{K}.metric.games"), f"{s.step:,}")
        if s.stage:
            col.caption(t(f"{K}.stage.{s.stage}"))
    curves = {name: {m: run.curve(name, m) for m in ("optimal_policy", "search_optimal", "value_error")}
              for name in run.snaps}
    charts.live(figs.plot_curves(curves, baseline(tcfg), labels=lab), key=f"{K}.fig.curves")
    # the same position, the same simulations: no network, AlphaGo-style (SL prior, mixed leaf), AlphaGo Zero
    a = run.snaps["alphago"]
    zero = ag.Evaluator(run.snaps["zero"].params)
    alphago = ag.Combined(ag.Evaluator(a.prior), ag.Evaluator(a.value_params))      # SL prior, value network
    searches = {
        "pure": ag.search_at(cmp_moves, ag.SearchConfig(n_sims=cmp_sims, c_puct=cfg.c_puct), seed),
        "alphago": ag.search_at(cmp_moves, ag.SearchConfig(n_sims=cmp_sims, c_puct=cfg.c_puct, prior="net",
                                                           leaf="mix", lam=tcfg.lam), seed, alphago),
        "zero": ag.search_at(cmp_moves, ag.SearchConfig(n_sims=cmp_sims, c_puct=cfg.c_puct, prior="net",
                                                        leaf="net"), seed, zero),
    }
    charts.live(figs.plot_compare({n: s.root.N for n, s in searches.items()}, ag.legal_moves(ag.replay(cmp_moves)),
                                  cmp_optimal, labels=lab), key=f"{K}.fig.compare")
    picks = {n: int(s.root.N.argmax()) for n, s in searches.items()}
    st.caption(t(f"{K}.compare_caption", n=cmp_sims, **{n: a + 1 for n, a in picks.items()},
                 optimal=", ".join(str(a + 1) for a in cmp_optimal)))


run = training.start(K, tcfg, make)
training.live(run, draw)
show_source(ag.self_play_game)

# ---------------------------------------------------------------------------------------- 6. AlphaGo vs Zero
st.header(t(f"{K}.versus_header"))
st.markdown(t(f"{K}.versus_text"))
formula(f"{K}.mix")
st.markdown(t(f"{K}.versus_table"))
st.subheader(t(f"{K}.examples_header"))
st.markdown(t(f"{K}.examples_text"))
snap = run.snaps["zero"]


@st.cache_data(max_entries=16, show_spinner=False)
def examples(c: ag.Config, step: int, _params: list) -> dict:
    """One game of each; the network is the run's snapshot at `step` of the run made from `c` (its key)."""
    return ag.example_games(_params, c)


st.plotly_chart(figs.plot_examples(examples(tcfg, snap.step, snap.params), labels=lab), key=f"{K}.fig.examples")
st.caption(t(f"{K}.examples_caption", step=snap.step))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself(K)
