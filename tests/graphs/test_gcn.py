"""GCN chapter: the Laplacian against networkx, exact and Chebyshev filtering against pygsp, the GCN, ChebNet and
GraphSAGE layers against torch_geometric, the impulse's one-hop-per-order spread against BFS, the course notes'
examples, the edge-list loader's bad inputs, the karate training, and the page."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from conftest import ROOT, assert_ok, figure_specs, run_page


from engine.graphs import gcn


def _random_graph(n=40, p=0.1, seed=0) -> gcn.Graph:
    import networkx as nx

    G = nx.gnp_random_graph(n, p, seed=seed)
    return gcn._from_edges("random", n, np.array(G.edges()), np.random.default_rng(seed).random((n, 2)))


GRAPHS = {"karate": gcn.karate, "random": _random_graph, "grid": lambda: gcn.grid(6)}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_laplacian_equals_networkx(name):
    import networkx as nx

    g = GRAPHS[name]()
    ref = nx.normalized_laplacian_matrix(nx.from_scipy_sparse_array(g.A), nodelist=range(g.N)).toarray()
    np.testing.assert_allclose(gcn.normalized_laplacian(g.A).toarray(), ref, atol=1e-12)
    spec = gcn.spectrum(g)
    np.testing.assert_allclose(spec.U @ np.diag(spec.lam) @ spec.U.T, ref, atol=1e-9)
    assert spec.lam.min() >= 0 and spec.lmax <= 2


def test_grid_is_bipartite_so_lambda_max_is_two():
    assert gcn.spectrum(gcn.grid(6)).lmax == pytest.approx(2.0, abs=1e-9)
    assert gcn.spectrum(gcn.karate()).lmax < 2 - 1e-3


def _pygsp(g: gcn.Graph, lmax: float):
    from pygsp import graphs

    G = graphs.Graph(g.A.toarray(), lap_type="normalized")
    G._lmax = lmax
    return G


@pytest.mark.parametrize("kind,param", [("heat", 5.0), ("low_pass", 0.3), ("high_pass", 0.5)])
def test_exact_and_chebyshev_filtering_equal_pygsp(kind, param):
    from pygsp import filters
    from pygsp.filters import approximations as ap

    g = gcn.karate()
    spec = gcn.spectrum(g)
    x = gcn.signal(g, spec, "random", seed=1)
    G = _pygsp(g, spec.lmax)
    f = filters.Filter(G, lambda lam: gcn.response(kind, lam, param))
    G.compute_fourier_basis()
    np.testing.assert_allclose(gcn.spectral_filter(spec, x, kind, param).y, f.filter(x, method="exact"), atol=1e-10)
    for K in (1, 4, 12):
        c = gcn.cheb_coeffs(kind, param, K, spec.lmax)
        np.testing.assert_allclose(c, ap.compute_cheby_coeff(f, m=K), atol=1e-12)
        np.testing.assert_allclose(gcn.cheb_filter(gcn.normalized_laplacian(g.A), x, c, spec.lmax),
                                   ap.cheby_op(G, c, x), atol=1e-10)


def test_chebyshev_error_falls_with_order_and_vanishes():
    g = gcn.grid(8)
    spec = gcn.spectrum(g)
    x = gcn.signal(g, spec, "noisy_smooth")
    errs = [gcn.chebyshev(g, spec, x, "heat", 5.0, K).rel_error for K in (1, 3, 6, 12, 30)]
    assert all(b < a for a, b in zip(errs, errs[1:])) and errs[-1] < 1e-10


@pytest.mark.parametrize("name", ["karate", "random"])
def test_impulse_spreads_exactly_one_hop_per_order(name):
    g = GRAPHS[name]()
    for node in (0, 5):
        s = gcn.impulse_spread(g, node, 6)
        for k in range(7):
            ball = (s.hops >= 0) & (s.hops <= k)
            # the union of orders 0..k covers exactly the k-hop ball, and order k itself reaches hop k
            assert np.array_equal(s.reach[:k + 1].any(0), ball)
            assert s.max_hop[k] == min(k, s.hops.max())


@pytest.mark.parametrize("name", ["karate", "random"])
def test_gcn_layer_equals_torch_geometric_gcnconv(name):
    from torch_geometric.nn import GCNConv

    g = GRAPHS[name]()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((g.N, 5))
    conv = GCNConv(5, 3).double()
    W, b = conv.lin.weight.detach().numpy().T, conv.bias.detach().numpy()
    ei = torch.as_tensor(np.concatenate([g.edges, g.edges[:, ::-1]]).T.copy())
    ref = conv(torch.as_tensor(X), ei).detach().numpy()
    np.testing.assert_allclose(gcn.gcn_layer(gcn.gcn_norm(g.A), X, W, b), ref, atol=1e-10)


@pytest.mark.parametrize("name", ["karate", "random"])
@pytest.mark.parametrize("K", [1, 2, 4])
def test_cheb_conv_equals_torch_geometric_chebconv(name, K):
    from torch_geometric.nn import ChebConv

    g = GRAPHS[name]()
    X = np.random.default_rng(1).standard_normal((g.N, 4))
    conv = ChebConv(4, 3, K=K).double()
    thetas = [lin.weight.detach().numpy().T for lin in conv.lins]
    ei = torch.as_tensor(np.concatenate([g.edges, g.edges[:, ::-1]]).T.copy())
    ref = conv(torch.as_tensor(X), ei).detach().numpy()              # λ_max = 2 by default
    np.testing.assert_allclose(gcn.cheb_conv(g.A, X, thetas, 2.0, conv.bias.detach().numpy()), ref, atol=1e-10)


def test_sage_layer_equals_torch_geometric_sageconv():
    from torch_geometric.nn import SAGEConv

    g = gcn.karate()
    X = np.random.default_rng(2).standard_normal((g.N, 4))
    conv = SAGEConv(4, 3).double()
    ei = torch.as_tensor(np.concatenate([g.edges, g.edges[:, ::-1]]).T.copy())
    ref = conv(torch.as_tensor(X), ei).detach().numpy()
    mine = gcn.sage_layer(g.A, X, conv.lin_r.weight.detach().numpy().T, conv.lin_l.weight.detach().numpy().T,
                          conv.lin_l.bias.detach().numpy())
    np.testing.assert_allclose(mine, ref, atol=1e-10)


def test_course_notes_examples():
    # 93.8 × ⅓ + 102.4 × ⅓ + 96.7 × ⅓ on a node with two neighbours
    A = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], float))
    assert gcn.mean_aggregate(A, np.array([93.8, 102.4, 96.7]))[0] == pytest.approx(97.633, abs=1e-3)
    c = gcn.conv1d_example()
    np.testing.assert_array_equal(c.y[1:4], [26, 44, 62])
    assert np.isnan(c.y[0]) and np.isnan(c.y[4]) and [m for m, _ in c.terms] == [1, 2, 3]
    # the same sum as a 'valid' correlation: y_m = 1·f(m−1) + 3·f(m) + 5·f(m+1)
    np.testing.assert_array_equal(np.convolve(c.f, [5, 3, 1], "valid"), c.y[1:4])


def test_edge_list_bad_inputs_are_handled_or_explained():
    text = "source,target\n0,1\n1,2\n2,0\n2,2\n1,0\n0,1\n7\n,4\n10,11\n3,1,0.5\n"
    g = gcn.parse_edge_list(text)
    notes = dict(g.notes)
    assert g.N == 4 and g.E == 4 and g.node_ids == (0, 1, 2, 3)
    assert notes["header"] == 1 and notes["self_loops"] == 1 and notes["duplicates"] == 2
    assert notes["extra_columns"] == 1 and notes["other_components"] == 1 and notes["dropped_nodes"] == 2
    assert g.issues == ((8, "one_field", "7"), (9, "empty_id", ",4"))          # line numbers as an editor shows
    big = "\n".join(f"{i},{i + 1}" for i in range(100_000))
    with pytest.raises(gcn.GraphError) as err:
        gcn.parse_edge_list(big)
    assert err.value.code == "too_many_edges"
    for bad, code in (("", "nothing_usable"), ("a\nb\n", "nothing_usable"), ("1,1\n2,2\n", "no_edge"),
                      ("0,1\n", "too_small")):
        with pytest.raises(gcn.GraphError) as err:
            gcn.parse_edge_list(bad)
        assert err.value.code == code
    g = gcn.parse_edge_list("1000000,5\n5,7\n7,1000000\n")       # ids renumbered in increasing order
    assert g.N == 3 and g.node_ids == (5, 7, 1000000)


def _networkx_oracle(text_rows: list[tuple[object, object]], order: str):
    """networkx on the same pairs (ids already Python objects), the largest connected part, relabelled 0 … n−1
    in increasing order ("sorted") or in order of first appearance ("first")."""
    import networkx as nx

    G = nx.Graph()
    G.add_edges_from((a, b) for a, b in text_rows if a != b)
    part = max(nx.connected_components(G), key=len)
    seen = list(dict.fromkeys(x for pair in text_rows for x in pair if x in part))
    ids = sorted(part) if order == "sorted" else seen
    index = {v: i for i, v in enumerate(ids)}
    return tuple(ids), {tuple(sorted((index[a], index[b]))) for a, b in G.subgraph(part).edges()}


def _edges(g) -> set[tuple[int, int]]:
    return {tuple(sorted(map(int, e))) for e in g.edges}


def test_large_integer_ids_are_exact_labels():
    """64-bit and larger ids (never read through float: 2⁵³ and 2⁵³ + 1 stay two nodes; no OverflowError)."""
    rng = np.random.default_rng(7)
    base = [2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64 + 12345, 10**30, 0, 3]
    rows = [(base[i], base[j]) for i, j in rng.integers(0, len(base), (30, 2))] + [(base[k], base[k + 1])
                                                                                     for k in range(len(base) - 1)]
    text = "\n".join(f"{a},{b}" for a, b in rows)
    g = gcn.parse_edge_list(text)
    ids, edges = _networkx_oracle(rows, "sorted")
    assert g.node_ids == ids and _edges(g) == edges and g.N == len(base)


def test_string_ids_first_seen_order_against_networkx():
    rng = np.random.default_rng(3)
    names = ["alice", "bob", "carol", "東京", "大阪", "名古屋", "ラーメン", "New York", "x-1"]
    rows = [(names[i], names[j]) for i, j in rng.integers(0, len(names), (40, 2))]
    rows += [(names[k], names[k + 1]) for k in range(len(names) - 1)]
    text = "\n".join(f"{a},{b}" if " " in a + b else rng.choice([f"{a} {b}", f"{a};{b}", f"{a}\t{b}", f"{a}　{b}"])
                     for a, b in rows)
    g = gcn.parse_edge_list(text)
    ids, edges = _networkx_oracle(rows, "first")
    assert g.node_ids == ids and _edges(g) == edges


def test_named_nodes_a_bom_and_full_width_digits():
    from engine.common.text import decode

    g = gcn.parse_edge_list("alice bob\nbob carol\ncarol alice\n東京 大阪\n大阪 alice\n")
    assert g.node_ids == ("alice", "bob", "carol", "東京", "大阪") and g.E == 5
    # Excel's CSV: a UTF-8 BOM before the first edge (which must not be dropped), CR LF
    data = "\ufeff0,1\r\n1,2\r\n2,3\r\n".encode("utf-8")
    g = gcn.parse_edge_list(decode(data))
    assert g.node_ids == (0, 1, 2, 3) and _edges(g) == {(0, 1), (1, 2), (2, 3)} and not g.notes
    # full-width digits from an IME are the same integers; Shift_JIS decodes
    g = gcn.parse_edge_list(decode("始点,終点\n１，２\n２，３\n3,1\n".encode("cp932")))
    assert g.node_ids == (1, 2, 3) and dict(g.notes) == {"header": 1}


def test_every_error_and_issue_is_translated():
    from ui.i18n import lookup

    errors = []
    for bad in ("", "1,1\n2,2\n", "0,1\n", "\n".join(f"{i},{i + 1}" for i in range(100_000)),
                "\n".join(f"a{i},b{i}" for i in range(3_100)), "x\n" * (gcn.MAX_ROWS + 1)):
        with pytest.raises(gcn.GraphError) as err:
            gcn.parse_edge_list(bad)
        errors.append(err.value)
    assert [e.code for e in errors] == ["nothing_usable", "no_edge", "too_small", "too_many_edges", "too_many_nodes",
                                        "too_many_lines"]
    g = gcn.parse_edge_list("0,1\n1,2\n2,0\nx\n,1\n" + "a" * 101 + ",b\n")
    assert [why for _, why, _ in g.issues] == ["one_field", "empty_id", "long_id"]
    for lang in ("en", "ja"):
        for e in errors:
            assert lookup(f"gcn.csv.{e.code}", lang).format(**e.params)
        for why in ("one_field", "empty_id", "long_id"):
            assert lookup(f"gcn.issues.{why}", lang)
        for reason, n in dict(header=1, extra_columns=2, self_loops=1, duplicates=1, other_components=1,
                              dropped_nodes=2).items():
            assert lookup(f"gcn.note.{reason}", lang).format(n=n)


def test_karate_gcn_learns_the_split_from_four_members_and_is_deterministic():
    cfg = gcn.GCNConfig(max_steps=40, snapshot_every=10)
    g = gcn.karate()
    a = list(gcn.train_gcn(g, cfg))
    b = list(gcn.train_gcn(g, cfg))
    assert a[-1].acc_unlabelled >= 0.9
    for s, u in zip(a, b):
        assert s.step == u.step and np.array_equal(s.emb, u.emb)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_and_trains(lang):
    at = run_page("pages/graphs/gcn.py", lang=lang)
    assert_ok(at)
    at.button(key="gcn.run.step").click().run()
    assert_ok(at)
    assert at.session_state["gcn.run"].snaps["gcn"].step == 5


def test_page_grid_upload_and_signals():
    at = run_page("pages/graphs/gcn.py")
    at.selectbox(key="gcn.graph").set_value("grid").run()
    assert_ok(at)
    for sig in ("impulse", "painted", "random"):  # on the grid (an image): painting by list only
        at.selectbox(key="gcn.signal").set_value(sig).run()
        assert_ok(at)
    at.selectbox(key="gcn.filter").set_value("heat").run()
    assert_ok(at)
    at.selectbox(key="gcn.graph").set_value("upload").run()
    assert_ok(at)
    assert not at.error


@pytest.mark.slow
def test_page_on_the_road_network():
    at = run_page("pages/graphs/gcn.py", timeout=600)
    at.selectbox(key="gcn.graph").set_value("minnesota").run()
    assert_ok(at)
    assert sum(len(spec) for spec in figure_specs(at)) < 300_000


def test_painting_on_the_karate_club():
    at = run_page("pages/graphs/gcn.py")
    at.selectbox(key="gcn.signal").set_value("painted").run()
    assert_ok(at)
    at.multiselect(key="gcn.paint").set_value([5, 6]).run()
    assert_ok(at)


# ---- practice items: answers recomputed from the numbers shown by torch_geometric / networkx (never the generator)
def _edge_index(edges):
    e = np.array(edges).T
    return torch.as_tensor(np.concatenate([e, e[::-1]], 1).copy())


def test_practice_renorm_entry_and_layer_equal_torch_geometric():
    from torch_geometric.nn import GCNConv
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from torch_geometric.utils import to_dense_adj

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gcn", "renorm_entry", seed)
        p = item.params
        ei, w = gcn_norm(_edge_index(p["edges"]), num_nodes=p["n"], add_self_loops=True)
        dense = to_dense_adj(ei, edge_attr=w, max_num_nodes=p["n"])[0].double().numpy()
        want = dense[p["j"], p["i"]]                              # PyG: row = target; Â is symmetric anyway
        assert abs(item.answer - want) < 1e-6
        assert abs(float(item.choices[item.correct_index].label["en"]) - want) <= 5e-4 + 1e-6
        impl = P.make("gcn", "layer_implementation", seed)
        q = impl.params
        conv = GCNConv(2, 2, bias=False).double()
        with torch.no_grad():
            conv.lin.weight.copy_(torch.as_tensor(q["W"].T))
        ref = conv(torch.as_tensor(q["H"]), _edge_index(q["edges"])).detach().numpy()
        np.testing.assert_allclose(impl.exec.expected, ref, atol=1e-10)


def test_practice_khop_count_equals_networkx_bfs():
    import networkx as nx

    from engine.common import practice as P
    G = nx.grid_2d_graph(gcn.GRID_SIDE, gcn.GRID_SIDE)
    for seed in range(200):
        item = P.make("gcn", "khop_count", seed)
        p = item.params
        want = len(nx.single_source_shortest_path_length(G, (p["r"], p["c"]), cutoff=p["K"]))
        assert item.answer == want and item.choices[item.correct_index].label["en"] == str(want)
        assert item.setup["gcn.node"] == p["r"] * gcn.GRID_SIDE + p["c"] and item.setup["gcn.K"] == p["K"]


def test_practice_spectrum_equals_networkx():
    import networkx as nx

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gcn", "laplacian_spectrum", seed)
        G = nx.Graph()
        G.add_nodes_from(range(item.params["n"]))
        G.add_edges_from(item.params["edges"])
        want = np.sort(nx.normalized_laplacian_spectrum(G))
        label = item.choices[item.correct_index].label["en"]
        got = np.array([float(v) for v in label.strip("{}").split(",")])
        np.testing.assert_allclose(got, want, atol=5e-4)


def test_practice_statements_hold_on_random_graphs():
    """range, zero_mult, bipartite (true) hold on random graphs; renorm_mean (false) fails on one;
    loops_after (false): I + D^-½AD^-½ reaches 2 on a bipartite graph while Â stays below 2."""
    import networkx as nx
    rng = np.random.default_rng(0)
    row_sums_not_one = False
    for seed in range(50):
        G = nx.gnp_random_graph(int(rng.integers(5, 12)), 0.3, seed=seed)
        G.remove_nodes_from([v for v in list(G) if G.degree(v) == 0])
        if G.number_of_nodes() < 2:
            continue
        lam = nx.normalized_laplacian_spectrum(G)
        assert lam.min() > -1e-9 and lam.max() < 2 + 1e-9
        assert np.sum(np.abs(lam) < 1e-9) == nx.number_connected_components(G)
        if nx.is_connected(G) and nx.is_bipartite(G):
            assert abs(lam.max() - 2) < 1e-9
        A = nx.to_scipy_sparse_array(G, format="csr")
        row_sums_not_one |= not np.allclose(np.asarray(gcn.gcn_norm(A).sum(1)).ravel(), 1)
    assert row_sums_not_one
    A = nx.to_scipy_sparse_array(nx.path_graph(4), format="csr").astype(float)
    d = np.asarray(A.sum(1)).ravel()
    plain = np.eye(4) + np.diag(d ** -0.5) @ A.toarray() @ np.diag(d ** -0.5)
    assert abs(np.linalg.eigvalsh(plain).max() - 2) < 1e-9 and np.linalg.eigvalsh(gcn.gcn_norm(A).toarray()).max() < 1 + 1e-9


def test_club_colours_agree_with_the_titles_and_labels_do_not_pile_up():
    from engine.figures.graphs import gcn as figs
    from ui.i18n import lookup

    # the embedding's legend and the predicted-club drawing use the same red (Officer) and blue (Mr. Hi)
    assert figs.CLUB == (figs.DIV_SCALE[0][1], figs.DIV_SCALE[-1][1])
    assert "red: Officer" in lookup("gcn.labels.pred_title", "en") and "赤：Officer" in lookup("gcn.labels.pred_title",
                                                                                               "ja")
    g = gcn.karate()
    cfg = gcn.GCNConfig(max_steps=5, snapshot_every=5)
    snap = list(gcn.train_gcn(g, cfg))[-1]
    fig = figs.plot_embedding(g, snap, cfg.labelled)
    printed = [x for tr in fig.data for x in tr.text if x]
    assert sorted(printed, key=int) == [str(i) for i in cfg.labelled]            # only the 4 labelled members
    assert sorted((h for tr in fig.data for h in tr.hovertext), key=int) == [str(i) for i in range(g.N)]
    assert [tr.marker.color for tr in fig.data] == list(figs.CLUB)


def test_training_is_paced_one_snapshot_per_refresh():
    """The page trains with budget 0: each refresh (REFRESH_S) pulls one snapshot of `snapshot_every` steps, so the
    200 steps take 40 refreshes (~20 s) instead of ending in under a second."""
    import ast

    from ui import training
    tree = ast.parse((ROOT / "pages" / "graphs" / "gcn.py").read_text())
    live = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "live"]
    assert [k.value.value for n in live for k in n.keywords if k.arg == "budget_s"] == [0.0]
    cfg = gcn.GCNConfig()
    assert cfg.max_steps / cfg.snapshot_every * training.REFRESH_S >= 15


class _Upload:
    def __init__(self, data: bytes):
        self.data = data

    def getvalue(self) -> bytes:
        return self.data


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_upload_names_big_ids_and_bad_lines(lang, monkeypatch):
    """The upload path of the page (the uploader replaced by a fake file, AppTest cannot upload): named nodes with a
    BOM and two bad lines → the graph, the id mapping and each bad line with its number, all in the reader's
    language; a file with no usable line → the translated reason, no exception box."""
    import streamlit as st
    from ui.i18n import lookup

    files = {"now": "\ufeff東京,大阪\n大阪,名古屋\n名古屋,東京\nalice\n,bob\n名古屋 alice\n".encode("utf-8-sig")}
    monkeypatch.setattr(st, "file_uploader", lambda *a, **k: _Upload(files["now"]))
    at = run_page("pages/graphs/gcn.py", lang=lang)
    at.selectbox(key="gcn.graph").set_value("upload").run()
    assert_ok(at)
    assert not at.error
    warning = "\n".join(w.value for w in at.warning)
    assert lookup("gcn.issues.header", lang).format(n=2) in warning
    for line, why in ((4, "one_field"), (5, "empty_id")):
        assert lookup("gcn.issues.line", lang).format(line=line, reason=lookup(f"gcn.issues.{why}", lang),
                                                     text=["alice", ",bob"][line - 4]) in warning
    caption = "\n".join(c.value for c in at.caption)
    assert "0 = 東京, 1 = 大阪, 2 = 名古屋, 3 = alice" in caption           # first-seen order, said on the page
    files["now"] = f"{2**64},{2**64 + 1}\n{2**64 + 1},{2**53 + 1}\n{2**53 + 1},{2**64}\n".encode()
    at.selectbox(key="gcn.graph").set_value("karate").run()
    at.selectbox(key="gcn.graph").set_value("upload").run()
    assert_ok(at)
    assert f"0 = {2**53 + 1}, 1 = {2**64}, 2 = {2**64 + 1}" in "\n".join(c.value for c in at.caption)
    files["now"] = b"only\none\nid\n"
    at.selectbox(key="gcn.graph").set_value("karate").run()
    at.selectbox(key="gcn.graph").set_value("upload").run()
    assert_ok(at)
    [error] = at.error
    assert lookup("gcn.csv.nothing_usable", lang).format(issues=3, line=1) in error.value
