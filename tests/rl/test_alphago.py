"""AlphaGo's search on tic-tac-toe: the rules against the known counts (255 168 games, 5 478 positions), exact
minimax against an independent negamax, the search's backup and PUCT selection recomputed by brute force from its
simulations, the search's move converging to a minimax-optimal one, π ∝ N^{1/τ} by brute force, the network's
loss and gradients against torch autograd, training determinism and learning, and the page."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine.rl import alphago as ag

PAGE = "pages/rl/alphago.py"


# ------------------------------------------------------------------------------------------- oracle: rules
def _lines_win(cells: list, p: int) -> bool:
    rows = [cells[0:3], cells[3:6], cells[6:9]]
    cols = [cells[0::3], cells[1::3], cells[2::3]]
    diags = [[cells[0], cells[4], cells[8]], [cells[2], cells[4], cells[6]]]
    return any(all(c == p for c in line) for line in rows + cols + diags)


def _negamax(cells: tuple, p: int, memo: dict) -> int:
    """Independent exact value for player p (±1) to move: win +1 / draw 0 / loss −1."""
    key = (cells, p)
    if key in memo:
        return memo[key]
    if _lines_win(list(cells), -p):
        r = -1
    elif 0 not in cells:
        r = 0
    else:
        r = max(-_negamax(cells[:i] + (p,) + cells[i + 1:], -p, memo) for i in range(9) if cells[i] == 0)
    memo[key] = r
    return r


def test_the_rules_give_the_known_counts():
    """255 168 distinct games and 5 478 legal positions (4 520 with moves left): the game's well-known numbers."""
    def games(board) -> int:
        if ag.winner(board) is not None:
            return 1
        return sum(games(ag.play(board, a)) for a in ag.legal_moves(board))

    assert games(ag.EMPTY) == 255_168
    assert len(ag.all_positions()) == 4_520
    finished = set()
    for b in ag.all_positions():
        for a in ag.legal_moves(b):
            c = ag.play(b, a)
            if ag.winner(c) is not None:
                finished.add(c)
    assert len(ag.all_positions()) + len(finished) == 5_478


def test_minimax_equals_an_independent_negamax_on_every_position():
    memo: dict = {}
    for b in ag.all_positions():
        p = ag.to_move(b)
        assert ag.minimax(b) == _negamax(b, p, memo)
        v = ag.move_values(b)
        for a in range(9):
            if b[a] == 0:
                assert v[a] == -_negamax(b[:a] + (p,) + b[a + 1:], -p, memo)
            else:
                assert np.isnan(v[a])
    assert ag.minimax(ag.EMPTY) == 0 and list(ag.move_values(ag.EMPTY)) == [0.0] * 9     # every opening draws
    assert ag.optimal_moves(ag.replay([0, 4, 8])) == [1, 3, 5, 7]                       # O must take an edge
    assert ag.value_for(ag.replay([0, 4, 8]), -1) == 0 and ag.value_for(ag.replay([0, 4, 8, 2]), -1) == -1
    assert ag.value_for(ag.replay([0, 3, 1, 4, 2]), 1) == 1 and ag.value_for(ag.replay([0, 3, 1, 4]), 1) == 1


def test_parse_moves_keeps_the_legal_prefix_and_names_the_problem():
    assert ag.parse_moves("5 1 9") == ag.Moves((4, 0, 8))
    assert ag.parse_moves("５，１，９") == ag.Moves((4, 0, 8))
    assert ag.parse_moves("") == ag.Moves(())
    assert ag.parse_moves("5 5") == ag.Moves((4,), "occupied", "5")
    assert ag.parse_moves("5 0") == ag.Moves((4,), "not_a_cell", "0")
    assert ag.parse_moves("5 x") == ag.Moves((4,), "not_a_cell", "x")
    assert ag.parse_moves("5 12") == ag.Moves((4,), "not_a_cell", "12")
    assert ag.parse_moves("1 4 2 5 3 6").error == "game_over"                          # X won after 5 moves
    assert ag.parse_moves("1 4 2 5 3 6").moves == (0, 3, 1, 4, 2)
    assert ag.parse_moves("1 " * 40).error == "too_long"
    assert ag.format_moves((4, 0, 8)) == "5 1 9"


# ----------------------------------------------------------------------------------- oracle: the search
class _ExactNet:
    """A 'network' that knows the game: uniform P and the exact minimax value."""

    def __call__(self, board):
        legal = np.array([c == 0 for c in board], float)
        return legal / legal.sum(), float(ag.minimax(board))


def _brute_force_root(search: ag.Search, board) -> tuple[np.ndarray, np.ndarray]:
    """N and W of the root's edges recounted from the list of simulations: a leaf's value v is for the player to
    move at the leaf, which is the root's player when the path has even length."""
    N, W = np.zeros(9), np.zeros(9)
    for sim in search.sims:
        N[sim.path[0]] += 1
        W[sim.path[0]] += sim.value if len(sim.path) % 2 == 0 else -sim.value
    return N, W


@pytest.mark.parametrize("moves", [(), (0, 4, 8), (4, 0), (0, 1, 4)])
def test_backup_and_puct_selection_recomputed_from_the_simulations(moves):
    board = ag.replay(moves)
    c_puct = 1.3
    s = ag.mcts(board, ag.SearchConfig(n_sims=60, c_puct=c_puct), np.random.default_rng(1))
    N, W = _brute_force_root(s, board)
    assert np.array_equal(s.root.N, N) and np.allclose(s.root.W, W)
    assert s.root.N.sum() == 60 and np.array_equal(s.root_visits[-1], s.root.N)
    legal = [a for a in range(9) if board[a] == 0]
    for k, sim in enumerate(s.sims):                     # the root's choice of every simulation, by hand
        n_k, w_k = np.zeros(9), np.zeros(9)
        for prev in s.sims[:k]:
            n_k[prev.path[0]] += 1
            w_k[prev.path[0]] += prev.value if len(prev.path) % 2 == 0 else -prev.value
        total = sum(n_k)
        score = {a: (w_k[a] / n_k[a] if n_k[a] else 0.0) + c_puct * (1 / len(legal)) * math.sqrt(total) / (1 + n_k[a])
                 for a in legal}
        best = max(score.values())
        assert sim.path[0] == min(a for a in legal if score[a] >= best - 1e-12)
    for row in ag.root_table(s, c_puct, 1.0):            # the table's U and Q + U, by hand
        n = s.root.N
        u = c_puct * (1 / len(legal)) * math.sqrt(n.sum()) / (1 + n[row.cell])
        assert row.U == pytest.approx(u) and row.score == pytest.approx(row.Q + u)
        assert row.Q == pytest.approx(W[row.cell] / N[row.cell] if N[row.cell] else 0.0)


def test_exact_leaf_values_make_q_the_minimax_value_of_each_move():
    """With the exact value at every leaf and c_puct so large that U spreads the first visits over every edge, one
    visit of each root edge gives Q(s, a) = the move's minimax value:
    the backup's signs are right at every ply."""
    for b in ag.decisive_positions()[::97]:
        legal = ag.legal_moves(b)
        s = ag.mcts(b, ag.SearchConfig(n_sims=len(legal), c_puct=1e6, prior="net", leaf="net"),
                    np.random.default_rng(0), _ExactNet())
        assert np.array_equal(s.root.N[legal], np.ones(len(legal)))
        assert np.array_equal(s.root.Q[legal], ag.move_values(b)[legal])


@pytest.mark.parametrize("leaf", ["rollout", "net"])
def test_the_search_move_converges_to_a_minimax_optimal_one(leaf):
    rng = np.random.default_rng(0)
    positions = [b for b in ag.decisive_positions() if 4 <= len(ag.legal_moves(b)) <= 7]
    picks = [positions[i] for i in rng.choice(len(positions), 10, replace=False)]
    net = _ExactNet() if leaf == "net" else None
    for b in picks + [ag.replay([0, 4, 8])]:
        s = ag.mcts(b, ag.SearchConfig(n_sims=1500, c_puct=1.5, leaf=leaf), np.random.default_rng(2), net)
        assert int(np.argmax(s.root.N)) in ag.optimal_moves(b), (b, s.root.N, ag.move_values(b))
    # and the share of optimal picks grows with the number of simulations (fixed test positions)
    cfg = ag.Config()
    few, many = (ag.search_accuracy(ag.SearchConfig(n_sims=n), ag._eval_set(40, 0), 0) for n in (4, 200))
    assert many > few and many >= 0.95
    assert 0 < ag.baseline_search_accuracy(cfg) < 1


@pytest.mark.parametrize("tau", [0.0, 0.25, 0.5, 1.0, 2.0])
def test_visit_policy_is_n_to_the_one_over_tau(tau):
    rng = np.random.default_rng(0)
    for _ in range(20):
        N = rng.integers(0, 30, 9)
        N[rng.integers(9)] += 1
        pi = ag.visit_policy(N, tau)
        if tau == 0:
            top = [a for a in range(9) if N[a] == max(N)]
            expect = [1 / len(top) if a in top else 0.0 for a in range(9)]
        else:
            powers = [float(n) ** (1 / tau) for n in N]
            expect = [p / sum(powers) for p in powers]
        assert np.allclose(pi, expect, atol=1e-12)
    assert np.allclose(ag.visit_policy([1, 2, 7, 0, 0, 0, 0, 0, 0], 0.01), [0, 0, 1, 0, 0, 0, 0, 0, 0])


def test_dirichlet_noise_mixes_the_root_prior():
    b = ag.EMPTY
    cfg = ag.SearchConfig(n_sims=1, dirichlet_alpha=0.5, dirichlet_eps=0.25)
    s = ag.mcts(b, cfg, np.random.default_rng(3))
    eta = np.random.default_rng(3).dirichlet([0.5] * 9)
    assert np.allclose(s.root.P, 0.75 / 9 + 0.25 * eta)


def test_alphago_leaf_mix_is_one_minus_lambda_v_plus_lambda_z():
    class ConstNet:
        def __call__(self, board):
            legal = np.array([c == 0 for c in board], float)
            return legal / legal.sum(), 0.3

    b = ag.replay([0, 4])
    s = ag.mcts(b, ag.SearchConfig(n_sims=30, leaf="mix", lam=0.5), np.random.default_rng(5), ConstNet())
    for sim in s.sims:
        if sim.kind == "expand":                   # z ∈ {−1, 0, 1} from the rollout: v = 0.5·0.3 + 0.5·z
            assert any(sim.value == pytest.approx(0.15 + 0.5 * z) for z in (-1, 0, 1))
        else:
            assert sim.value in (-1.0, 0.0)


def test_tree_view_is_the_tree():
    s = ag.mcts(ag.replay([4]), ag.SearchConfig(n_sims=80), np.random.default_rng(0))
    tv = ag.tree_view(s, max_nodes=1000)
    assert len(tv.x) == s.nodes and tv.hidden == 0
    assert tv.visits[0] == 80
    for i in range(1, len(tv.x)):                 # a node's visits ≤ its parent's; children sum ≤ parent
        assert tv.visits[i] <= tv.visits[tv.parent[i]]
    for i in range(len(tv.x)):
        kids = tv.parent == i
        assert tv.visits[kids].sum() <= tv.visits[i]
    assert tv.on_last.sum() == len(s.sims[-1].path) + 1
    small = ag.tree_view(s, max_nodes=20)
    assert len(small.x) <= 20 and small.hidden == s.nodes - len(small.x)
    assert all(small.parent[i] < i for i in range(1, len(small.x)))


# --------------------------------------------------------------------------------------- oracle: network
@pytest.mark.parametrize("target", ["zero", "reinforce", "value_only"])
def test_loss_and_gradients_equal_torch_autograd(target):
    rng = np.random.default_rng(0)
    params = ag.init_params(16, rng)
    boards = [ag.all_positions()[i] for i in rng.choice(4520, 12, replace=False)]
    x, legal = ag.features(boards), ag.legal_mask(boards)
    pi = rng.random((12, 9)) * legal
    pi /= pi.sum(1, keepdims=True)
    z = rng.choice([-1.0, 0.0, 1.0], 12)
    vw = 1.0
    if target == "reinforce":                      # AlphaGo's RL policy: −z log p(a|s), no value term
        a = np.array([rng.choice(np.flatnonzero(m)) for m in legal])
        pi, vw = z[:, None] * np.eye(9)[a], 0.0
    elif target == "value_only":                   # AlphaGo's value network: (z − v)² alone
        pi = np.zeros((12, 9))
    c = 1e-3
    loss, grads = ag.loss_and_grads(params, x, legal, pi, z, c, value_weight=vw)

    tp = [torch.tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2, Wp, bp, wv, bv = tp
    h = torch.relu(torch.relu(torch.tensor(x) @ W1 + b1) @ W2 + b2)
    logits = (h @ Wp + bp).masked_fill(~torch.tensor(legal), float("-inf"))
    logp = torch.log_softmax(logits, 1).masked_fill(~torch.tensor(legal), 0.0)
    v = torch.tanh(h @ wv + bv)[:, 0]
    value = torch.mean((torch.tensor(z) - v) ** 2)
    policy = -torch.mean(torch.sum(torch.tensor(pi) * logp, 1))
    l2 = c * sum((p * p).sum() for p in tp)
    total = vw * value + policy + l2
    total.backward()
    assert loss.total == pytest.approx(total.item(), rel=1e-10)
    assert loss.value == pytest.approx(value.item()) and loss.policy == pytest.approx(policy.item())
    for g, p in zip(grads, tp):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-8, atol=1e-12)
    out = ag.forward(params, x, legal)
    assert np.allclose(out.p.sum(1), 1) and np.all(out.p[~legal] == 0)


def test_features_are_the_board_seen_by_the_player_to_move():
    b = ag.replay([0, 4, 8])                      # X X at 0, 8; O at 4; O to move
    f = ag.features([b])[0]
    assert list(np.flatnonzero(f[:9])) == [4] and list(np.flatnonzero(f[9:])) == [0, 8]
    # the 8 symmetries are permutations that keep the game: values of symmetric boards agree
    for perm in ag.SYMMETRIES:
        assert sorted(perm) == list(range(9))
        assert ag.minimax(tuple(np.array(b)[perm].tolist())) == ag.minimax(b)


def test_evaluator_equals_a_forward_pass_per_board():
    params = ag.init_params(8, np.random.default_rng(1))
    net = ag.Evaluator(params)
    for b in ag.all_positions()[::500] + (ag.replay([0, 3, 1, 4, 2]),):
        out = ag.forward(params, ag.features([b]), ag.legal_mask([b]))
        p, v = net(b)
        assert np.allclose(p, out.p[0]) and v == pytest.approx(out.v[0])


# -------------------------------------------------------------------------------------------- training
def test_games_are_recorded_with_the_outcome_for_the_player_to_move():
    cfg = ag.Config(n_sims=8)
    rng = np.random.default_rng(0)
    net = ag.Evaluator(ag.init_params(8, rng))
    for game in [ag.self_play_game(net, cfg, rng) for _ in range(3)] + [ag.expert_game(cfg, rng) for _ in range(3)]:
        assert game[0][0] == ag.EMPTY
        for (b, pi, z), (nxt, _, _) in zip(game, game[1:]):
            new = [i for i in range(9) if b[i] != nxt[i]]
            assert len(new) == 1 and b[new[0]] == 0 and nxt[new[0]] == ag.to_move(b)
            assert pi.sum() == pytest.approx(1) and np.all(pi[np.array(b) != 0] == 0)
        last, _, z_last = game[-1]
        ends = [ag.play(last, a) for a in ag.legal_moves(last) if ag.winner(ag.play(last, a)) is not None]
        assert ends, "the last recorded position is one move from the end"
        outcomes = {ag.winner(e) * ag.to_move(last) for e in ends}
        assert z_last in outcomes
        assert all(z == -game[i + 1][2] for i, (_, _, z) in enumerate(game[:-1]))   # alternating players


def test_perfect_experts_never_lose():
    cfg = ag.Config(expert_blunder=0.0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert all(z == 0.0 for _, _, z in ag.expert_game(cfg, rng))


@pytest.mark.slow
def test_training_is_deterministic_and_learns():
    cfg = ag.Config(eval_positions=10)
    a = list(itertools.islice(ag.train_sl(cfg), 41))
    b = list(itertools.islice(ag.train_sl(cfg), 41))
    assert all(np.array_equal(p, q) for p, q in zip(a[-1].params, b[-1].params))
    assert a[-1].step == 160 and a[-1].metrics["optimal_policy"] > a[0].metrics["optimal_policy"] + 0.08
    z = list(itertools.islice(ag.train_zero(cfg), 4))
    assert z[-1].step == 12 and all(math.isfinite(v) for v in z[-1].metrics.values())
    assert np.array_equal(z[0].params[0], a[0].params[0])          # both start from the same θ


# --------------------------------------------------------------------------------------------------- page
def test_page_plays_a_game_and_reports_an_illegal_move():
    at = run_page(PAGE)
    assert_ok(at)
    at.button(key="alphago.cell.4").click().run()       # the learner takes the centre; the search replies
    assert_ok(at)
    moves = ag.parse_moves(at.text_input(key="alphago.moves").value)
    assert moves.error is None and len(moves.moves) == 2 and moves.moves[0] == 4
    at.text_input(key="alphago.moves").set_value("5 5").run()
    assert_ok(at)
    assert any("5" in e.value for e in at.warning), [e.value for e in at.warning]


def test_a_search_of_k_simulations_is_the_first_k_of_a_longer_one():
    """The page's 'simulations shown' slider runs a search of k: it must be the longer search's beginning."""
    moves = (4, 0)
    cfg = ag.SearchConfig(n_sims=120, c_puct=1.5)
    full = ag.search_at(moves, cfg, 7)
    for k in (1, 13, 60):
        part = ag.search_at(moves, ag.SearchConfig(n_sims=k, c_puct=1.5), 7)
        assert part.sims == full.sims[:k]
        assert np.array_equal(part.root.N, full.root_visits[k - 1])


def test_page_search_starts_when_the_learner_plays_o_and_the_game_ends():
    at = run_page(PAGE)
    at.radio(key="alphago.side").set_value("o").run()                  # the search opens at once
    assert_ok(at)
    first = ag.parse_moves(at.text_input(key="alphago.moves").value).moves
    assert len(first) == 1
    # the search's reply is the page's seeded search: same settings, same move
    assert first[0] == ag.reply((), ag.SearchConfig(n_sims=200, c_puct=1.5), 0.0, 0)
    assert at.button(key="alphago.search_move").disabled and at.button(key=f"alphago.cell.{first[0]}").disabled
    assert not at.button(key=f"alphago.cell.{(first[0] + 1) % 9}").disabled          # the reader's turn
    at.text_input(key="alphago.moves").set_value("").run()             # an empty board with O to play: the button
    assert not at.button(key="alphago.search_move").disabled and at.button(key="alphago.cell.0").disabled
    at.button(key="alphago.search_move").click().run()
    assert ag.parse_moves(at.text_input(key="alphago.moves").value).moves == first
    at.text_input(key="alphago.moves").set_value("1 4 2 5 3").run()     # X has won
    assert_ok(at)
    assert at.success and all(at.button(key=f"alphago.cell.{i}").disabled for i in range(9))
    for hostile in ("1 2 3 4 5 6 7 8 9 1", "９ ８ x", "0", "1" * 60):
        at.text_input(key="alphago.moves").set_value(hostile).run()
        assert_ok(at)
        assert at.warning


# ------------------------------------------------------------------------------------- practice oracles
def _items(name: str, n: int = 200):
    from engine.common.practice import make

    return [make("alphago", name, seed) for seed in range(n)]


def test_practice_puct_answers_by_hand():
    for it in _items("puct_score"):
        N, W, P, c, j = (it.params[k] for k in ("N", "W", "P", "c", "edge"))
        q = W[j] / N[j] if N[j] else 0.0
        u = c * P[j] * math.sqrt(sum(N)) / (1 + N[j])
        assert it.answer == pytest.approx(q + u, abs=1e-12)


def test_practice_temperature_answers_by_hand():
    for it in _items("temperature"):
        N, tau, j = it.params["N"], it.params["tau"], it.params["move"]
        powers = [n ** (1 / tau) for n in N]
        assert it.answer == pytest.approx(powers[j] / sum(powers), abs=1e-12)


def test_practice_backup_answers_by_hand():
    for it in _items("backup_q"):
        d, v, n0, w0 = (it.params[k] for k in ("d", "v", "n0", "w0"))
        # the root's player sees the leaf's v when the path has an even number of plies, −v when odd
        assert it.answer == pytest.approx((w0 + v * (-1) ** d) / (n0 + 1), abs=1e-12)


def test_practice_blank_expected_is_n_to_the_one_over_tau():
    for it in _items("tau_blank", 60):
        N, tau = it.params["N"], it.params["tau"]
        powers = [n ** (1 / tau) for n in N]
        assert np.allclose(it.exec.expected, [p / sum(powers) for p in powers], atol=1e-12)


def test_practice_statements_hold_on_cases():
    """The numerically checkable statements, checked: U shrinks with its own N; τ → 0 gives the most visited move;
    a larger τ is flatter; the sign flips in the backup (a lost leaf for O is a won edge for X)."""
    node = ag.Node(ag.EMPTY, np.full(9, 1 / 9))
    node.N[:] = [5, 1, 0, 0, 0, 0, 0, 0, 0]
    u1 = node.U(1.5)
    node.N[0] += 5
    assert node.U(1.5)[0] < u1[0]                                           # u_shrinks
    N = np.array([3, 9, 5, 1, 0, 0, 0, 0, 0])
    assert np.allclose(ag.visit_policy(N, 1e-3), np.eye(9)[1])              # tau0
    ent = [-(p[p > 0] * np.log(p[p > 0])).sum() for p in (ag.visit_policy(N, t) for t in (0.5, 1, 2))]
    assert ent[0] < ent[1] < ent[2]                                         # a larger τ is flatter (not tau_big)
    s = ag.mcts(ag.replay([0, 3, 1, 4]), ag.SearchConfig(n_sims=50), np.random.default_rng(0))
    assert s.root.Q[2] == 1.0                                               # X completes the row: same_sign false


def test_figures_draw_what_the_engine_computed():
    from engine.figures.rl import alphago as figs

    s = ag.search_at((0, 4, 8), ag.SearchConfig(n_sims=40), 0)
    legal, opt = ag.legal_moves(ag.replay((0, 4, 8))), ag.optimal_moves(ag.replay((0, 4, 8)))
    fig = figs.plot_compare({"pure": s.root.N, "zero": s.root.N}, legal, opt)
    assert fig.layout.xaxis.type == "category"            # "3" and "2 ✓" side by side stay categories
    assert [int(v) for v in fig.data[0].y] == [int(s.root.N[a]) for a in legal]
    assert sum("✓" in x for x in fig.data[0].x) == len(opt) == 4
    conv = figs.plot_convergence(s.root_visits, legal, opt)
    assert len(conv.data) == len(legal)
    assert np.allclose(conv.data[0].y, np.round(s.root_visits[:, legal[0]] / np.arange(1, 41), 3))
    tv = ag.tree_view(s)
    tree = figs.plot_tree(tv)
    assert len(tree.data[2].x) == len(tv.x) == s.nodes
    board = figs.plot_board(ag.replay((0, 4, 8)), s.root.N, opt, 8)
    assert sum(a.text in ("<b>X</b>", "<b>O</b>") for a in board.layout.annotations) == 3


def test_example_games_are_what_each_network_trains_on():
    from engine.figures.rl import alphago as figs

    cfg = ag.Config(n_sims=8)
    games = ag.example_games(ag.init_params(8, np.random.default_rng(0)), cfg)
    assert all(pi.max() == 1.0 for _, pi, _ in games["sl"])                     # SL: the expert's one move
    assert any((pi > 0).sum() > 1 for _, pi, _ in games["zero"])                 # Zero: visit distributions
    fig = figs.plot_examples(games)
    assert len(fig.data) == len(games["zero"]) + len(games["sl"])
    first = fig.data[0]
    assert np.allclose(np.asarray(first.z)[::-1].ravel(), np.round(games["zero"][0][1], 3))


def test_alphago_pipeline_stages_train_what_the_paper_trains():
    """SL changes only the policy; at the switch the SL weights freeze as the search's prior; RL changes only the
    policy (the value network untouched); the value stage changes only the value network."""
    cfg = ag.Config(sl_games=8, rl_games=32, games_per_step=4, rl_games_per_step=16, eval_positions=4, eval_sims=4)
    snaps = list(itertools.islice(ag.train_alphago(cfg), 8))
    assert [s.stage for s in snaps] == ["sl", "sl", "sl", "rl", "rl", "value", "value", "value"]
    assert [s.step for s in snaps] == [0, 4, 8, 24, 40, 56, 72, 88]
    same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))        # noqa: E731
    assert not same(snaps[1].params, snaps[0].params) and same(snaps[2].value_params, snaps[0].value_params)
    sl = snaps[2].params
    for s in snaps[3:]:
        assert same(s.prior, sl)                                               # the SL policy stays the prior
    assert not same(snaps[3].params, sl) and same(snaps[4].value_params, snaps[0].value_params)
    assert same(snaps[5].params, snaps[4].params) and not same(snaps[5].value_params, snaps[4].value_params)
    again = list(itertools.islice(ag.train_alphago(cfg), 8))
    assert all(same(a.params, b.params) and same(a.value_params, b.value_params) for a, b in zip(snaps, again))


def test_policy_games_follow_the_policy():
    """A policy that puts all its mass on the lowest empty cell plays exactly that, for both players."""
    class Lowest:
        def __call__(self, board):
            p = np.zeros(9)
            p[next(i for i in range(9) if board[i] == 0)] = 1.0
            return p, 0.0

    record, w = ag.policy_game(Lowest(), Lowest(), np.random.default_rng(0))
    assert [a for _, a in record] == [0, 1, 2, 3, 4, 5, 6] and w == 1               # X completes 0-3-6
