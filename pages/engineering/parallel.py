"""Engineering › Distributed training: data parallelism and the ring all-reduce, model and pipeline parallelism with
GPipe's bubble, stale gradients live on real digits, the communication cost model
(engine/engineering/parallel.py)."""
import streamlit as st

from engine.engineering import parallel as P
from engine.figures.engineering import parallel as figs
from ui import charts, fmt, formula, labels, show_source, t, training

K_ = "parallel"
st.title(t(f"{K_}.title"))
st.markdown(t(f"{K_}.intro"))
lab = labels(f"{K_}.labels")


@st.cache_data(max_entries=32, show_spinner=False)
def data_parallel(B: int, K: int) -> P.DataParallel:
    return P.data_parallel(B, K)


@st.cache_data(max_entries=32, show_spinner=False)
def ring(K: int, N: int) -> P.RingAllReduce:
    return P.ring_allreduce(P.ring_inputs(K, N))


@st.cache_data(max_entries=32, show_spinner=False)
def microbatches(M: int) -> tuple[float, int]:
    return P.microbatch_gradient(8 * M, M)


# ---- 1. data parallelism -------------------------------------------------------------------------------------
st.header(t(f"{K_}.dp_header"))
st.markdown(t(f"{K_}.dp_text"))
formula(f"{K_}.dp_identity")
c = st.columns(2)
K = c[0].slider(t(f"{K_}.workers"), 1, 8, 4, key=f"{K_}.dp_K", bind="query-params")
B = c[1].select_slider(t(f"{K_}.batch"), (8, 16, 32, 64, 128, 256), value=64, key=f"{K_}.dp_B",
                       bind="query-params")
dp = data_parallel(B, K)
st.plotly_chart(figs.plot_worker_grads(dp, lab), key=f"{K_}.fig.grads")
shards = " · ".join(t(f"{K_}.shard", k=k, labels=" ".join(str(v) for v in dp.labels[k][:12])
                      + (" …" if len(dp.labels[k]) > 12 else "")) for k in range(K))
st.caption(shards)
if B % K == 0:
    st.success(t(f"{K_}.dp_equal", B=B, K=K, n=B // K, P=dp.n_params, err=f"{dp.err_mean:.1e}"))
else:
    st.warning(t(f"{K_}.dp_unequal", B=B, K=K, sizes=", ".join(str(s) for s in dp.sizes),
                 err=f"{dp.err_mean:.1e}", werr=f"{dp.err_weighted:.1e}"))

# ---- 2. ring all-reduce --------------------------------------------------------------------------------------
st.header(t(f"{K_}.ring_header"))
st.markdown(t(f"{K_}.ring_text"))
c = st.columns(3)
rK = c[0].slider(t(f"{K_}.workers"), 2, 8, 4, key=f"{K_}.ring_K", bind="query-params")
rN = c[1].slider(t(f"{K_}.values"), 1, 24, 10, key=f"{K_}.ring_N", bind="query-params")
step = c[2].slider(t(f"{K_}.step"), 0, 14, 0, key=f"{K_}.ring_step", bind="query-params")
r = ring(rK, rN)
step = min(step, r.steps)
if step == 0:
    what = t(f"{K_}.ring_start")
elif step <= rK - 1:
    what = t(f"{K_}.ring_rs", s=step, K1=rK - 1)
else:
    what = t(f"{K_}.ring_ag", s=step - (rK - 1), K1=rK - 1)
st.markdown(t(f"{K_}.ring_step_text", s=step, S=r.steps, what=what))
st.plotly_chart(figs.plot_ring(r, step, lab), key=f"{K_}.fig.ring")
if step > 0:
    sends = " · ".join(t(f"{K_}.send", i=i, j=(i + 1) % rK, c=int(ch)) for i, ch in enumerate(r.sent[step - 1]))
    st.caption(sends)
total = r.states[0].sum(axis=0)
st.markdown(t(f"{K_}.ring_result", total=", ".join(f"{v:g}" for v in total), S=r.steps,
              ok=t(f"{K_}.ring_ok") if (r.result == total).all() else t(f"{K_}.ring_bad"),
              sent=r.values_sent, N=rN, K=rK))
formula(f"{K_}.ring_volume")

# ---- 3. model and pipeline parallelism -----------------------------------------------------------------------
st.header(t(f"{K_}.pp_header"))
st.markdown(t(f"{K_}.pp_text"))
c = st.columns(3)
pK = c[0].slider(t(f"{K_}.devices"), 1, 8, 4, key=f"{K_}.pp_K", bind="query-params")
M = c[1].slider(t(f"{K_}.micro"), 1, 32, 4, key=f"{K_}.pp_M", bind="query-params")
ratio = c[2].select_slider(t(f"{K_}.ratio"), (1, 2, 3), value=2, key=f"{K_}.pp_ratio", bind="query-params")
split = P.model_split(P.PP_SIZES, pK)
rows = [t(f"{K_}.split_row", d=d, layers="–".join(dict.fromkeys((str(split.cuts[d] + 1), str(split.cuts[d + 1])))),
          p=f"{int(split.device_params[d]):,}",
          act=t(f"{K_}.split_act", n=int(split.activations[d])) if d < pK - 1 else "")
        for d in range(pK)]
st.markdown(t(f"{K_}.split_text", sizes=" → ".join(str(s) for s in P.PP_SIZES), K=pK) + "\n" + "\n".join(rows))
sched = P.gpipe_schedule(pK, M, 1.0, float(ratio))
st.plotly_chart(figs.plot_gantt(sched, lab), key=f"{K_}.fig.gantt")
formula(f"{K_}.bubble")
err, n_params = microbatches(M)
st.markdown(t(f"{K_}.pp_result", K=pK, M=M, bubble=f"{100 * sched.bubble:.1f}",
              formula=f"{100 * sched.bubble_formula:.1f}", span=f"{sched.makespan:g}",
              err=f"{err:.1e}", B=8 * M))

# ---- 4. synchronous vs asynchronous ----------------------------------------------------------------------------
st.header(t(f"{K_}.async_header"))
st.markdown(t(f"{K_}.async_text"))
formula(f"{K_}.stale")
c = st.columns(2)
tau = c[0].slider(t(f"{K_}.tau"), 0, 32, 8, key=f"{K_}.tau", bind="query-params")
lr = c[1].select_slider(t(f"{K_}.lr"), (0.1, 0.3, 1.0, 3.0), value=1.0, key=f"{K_}.lr", bind="query-params")
cfg = P.AsyncConfig(tau=tau, lr=lr)


def draw(run: training.Run) -> None:
    snap = run.snaps["async"]
    charts.live(figs.plot_async(snap, lab), key=f"{K_}.fig.async")
    st.caption(t(f"{K_}.async_status", step=snap.step,
                 accs=" · ".join(f"{lab[f'v_{v}'].format(tau=snap.taus[i], lr=f'{snap.lrs[i]:.3g}')} "
                                 f"{snap.loss[i, -1]:.3f} / {100 * snap.test_acc[i, -1]:.1f} %"
                                 for i, v in enumerate(snap.names))))


run = training.start(K_, cfg, lambda c_: {"async": P.train_async(c_)}, name="async")
training.live(run, draw)
st.markdown(t(f"{K_}.async_after"))

# ---- 5. communication cost -------------------------------------------------------------------------------------
st.header(t(f"{K_}.cost_header"))
st.markdown(t(f"{K_}.cost_text"))
formula(f"{K_}.cost")
c = st.columns(4)
N = c[0].selectbox(t(f"{K_}.params"), P.MODEL_SIZES, index=2, key=f"{K_}.cost_N",
                       format_func=fmt(f"{K_}.models"), bind="query-params")
cK = c[1].slider(t(f"{K_}.workers"), 1, 64, 8, key=f"{K_}.cost_K", bind="query-params")
bw = c[2].selectbox(t(f"{K_}.bandwidth"), P.BANDWIDTHS, index=2, key=f"{K_}.cost_bw",
                        format_func=fmt(f"{K_}.links"), bind="query-params")
alpha = c[3].select_slider(t(f"{K_}.latency"), (1, 5, 20, 100), value=5, key=f"{K_}.cost_alpha",
                           bind="query-params")
c = st.columns(3)
nbytes = c[0].selectbox(t(f"{K_}.bytes"), (2, 4), index=1, key=f"{K_}.cost_bytes",
                            format_func=fmt(f"{K_}.dtypes"), bind="query-params")
compute = c[1].select_slider(t(f"{K_}.compute"), (10, 50, 100, 300, 1000), value=100, key=f"{K_}.cost_compute",
                             bind="query-params")
servers = c[2].slider(t(f"{K_}.servers"), 1, 8, 1, key=f"{K_}.cost_servers", bind="query-params")
cost = P.cost_model(N, cK, alpha * 1e-6, bw * 1e9 / 8, nbytes, compute * 1e-3, servers)
charts.panels(figs.plot_cost(cost, lab), key=f"{K_}.fig.cost")
st.markdown(t(f"{K_}.cost_result", K=cK, N=f"{N:,}", b=nbytes, ring=f"{1e3 * cost.ring_K:.2f}",
              ps=f"{1e3 * cost.ps_K:.2f}", S=servers, mb_ring=f"{cost.bytes_sent_ring / 1e6:.1f}",
              mb_ps=f"{cost.bytes_server_ps / 1e6:.1f}", compute=compute,
              sp_ring=f"{cost.speedup_ring[cK - 1]:.2f}", sp_ps=f"{cost.speedup_ps[cK - 1]:.2f}"))

st.header(t(f"{K_}.explain_header"))
st.markdown(t(f"{K_}.explain_text"))
show_source(P.data_parallel)
show_source(P.ring_allreduce)
show_source(P.gpipe_schedule)
show_source(P.stale_sgd)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself(K_)
