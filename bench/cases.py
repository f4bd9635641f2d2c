"""The benchmark's cases: for each workload, its contestants (hamux and hand-written JAX) on the same weights and inputs.

A case is a `Case`: a name and title, the batch, the number of steps, the FLOPs of one run, and a dict of contestants
`{key: Contestant(label, compile(), run())}`; `run()` returns what the same-work check compares (final states and
energies for a descent, loss and updated parameters for a training step), or None for the bare products (d).
`refs` names the hand-written contestants that the ratios are taken against, `pairs` which of them each hamux
contestant does the same work as.

Keys: (a) `HAM.run` (energy trace), (aN) `HAM.run(energies=None)`, (a0) `HAM.run(fast=False)` (with --ablation),
(b) the per-step Python loop, (c) hand-written with the energy trace, (cN) hand-written without it, (w)/(wN) the
hand-written conv descents written as windows and a matmul (W4), (d) only the step's products, as bare ops.
"""
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from hamux.ham import HAM, _run
from hamux.lagrangians import LSoftmax
from hamux.layers import IdentityLayer, LayerNormLayer, ReluLayer, SoftmaxLayer, TanhLayer
from hamux.registry import create_model
from hamux.synapses import DenseMatrixSynapseWithHiddenLayer, DenseSynapse, SelfAttentionSynapse
from hamux.training import clamp_masks, classification_loss, make_train_step

import reference as R
from workloads import (CONV_W4, ET_W5, TRAIN_T1, TRAIN_T4, WORKLOADS, conv_products, et_products, make_data, make_states)

LAYERS = {"identity": IdentityLayer, "tanh": TanhLayer, "relu": ReluLayer, "softmax": SoftmaxLayer}


@dataclass
class Contestant:
    label: str
    compile: Callable  # trace, lower and XLA-compile the very program `run` runs
    run: Callable      # one timed call; returns what the same-work check compares, or None
    rounds: int | None = None  # time it in the first `rounds` rounds only (a contestant ten times slower than the rest)


@dataclass
class Case:
    name: str
    title: str
    batch: int
    nsteps: int
    flops: float        # floating-point operations of the products of one run (approximate for training steps)
    contestants: dict   # {key: Contestant}
    refs: tuple = ("c",)       # hand-written contestants, the first is the one the targets are judged against
    pairs: dict = field(default_factory=dict)  # {hamux key: hand-written key doing the same work}
    kind: str = "descent"      # "descent" (outputs: states, final energies) or "train" (loss, new parameters)
    ham: object = None         # the HAM (for the memory analysis)
    xs: list = None            # its initial states
    dt: float = 0.1


def _block(x): return jax.block_until_ready(x)


def _const(W):
    "An initializer that returns `W` (so hamux starts from the same weights as every other contestant)"
    def init(key, shape, dtype=jnp.float32):
        if tuple(shape) != W.shape: raise ValueError(f"bench: initializer asked for shape {tuple(shape)}, weights are {W.shape}")
        return W.astype(dtype)
    return init


def make_dense_ham(w, weights):
    "The dense workload `w` as a hamux HAM whose synapses hold `weights`"
    layers = [LAYERS[kind]((n,), tau=w.tau) for n, kind in w.layers]
    synapses, connections = [], []
    for idx, (s, W) in enumerate(zip(w.synapses, weights)):
        if s[0] == "dense":
            synapses.append(DenseSynapse(W_init=_const(W))); connections.append(((s[1], s[2]), idx))
        else:
            hidden = DenseMatrixSynapseWithHiddenLayer(s[2], hidden_lagrangian=LSoftmax(), W_init=_const(W.T))  # Ws[0] is (size, nhid)
            synapses.append(hidden); connections.append(((s[1],), idx))
    return HAM(layers, synapses, connections).init_params(0)


# --- hamux's own contestants, the same for every descent
def run_args(ham, xs, dt, nsteps, keep=False, fast=True, energies="all"):
    "`(args, kwargs)` with which `HAM.run(xs, nsteps, dt, return_trajectory=keep, fast=fast, energies=energies)` calls `_run`"
    return ((ham, list(xs), [None] * len(xs), jnp.asarray(dt, jnp.float32), nsteps, True, keep),
            {"fast": fast, "check": energies is not None, "energies": energies})


def check_same_program(ham, xs, dt, nsteps, fast=True, energies="all"):
    "Exit unless `_run(*run_args(...))` is the program `HAM.run` compiled: calling it must add nothing to `_run`'s cache"
    _run._clear_cache()
    _block(ham.run(xs, nsteps, dt, fast=fast, energies=energies).xs)
    n = _run._cache_size()
    args, kwargs = run_args(ham, xs, dt, nsteps, fast=fast, energies=energies)
    _block(_run(*args, **kwargs)[0])
    if _run._cache_size() != n:
        raise SystemExit(f"bench: run_args(fast={fast}, energies={energies!r}) no longer gives the arguments HAM.run passes to _run, so "
                         f"the compile time measured would be that of another program; update run_args to match HAM.run")


def hamux_descent(ham, xs, dt, n, ablation=False):
    "{key: Contestant} of hamux: (a) HAM.run, (aN) without the energy trace, (a0) without the layout rewrite, (b) per-step loop"
    def fused(fast, energies):
        def comp():
            args, kwargs = run_args(ham, xs, dt, n, fast=fast, energies=energies)
            _run.lower(*args, **kwargs).compile()
        def run():
            r = ham.run(xs, n, dt, fast=fast, energies=energies)
            return r.xs, None if r.energies is None else r.energies[-1]
        return comp, run
    step = jax.jit(lambda h, xs, dt: h.step(xs, h.vupdates(xs), dt))
    venergy = jax.jit(lambda h, xs: h.venergy(xs))
    def b_compile(): step.lower(ham, xs, dt).compile()
    def b_run():
        s = xs
        for _ in range(n): s = step(ham, s, dt)
        return s, venergy(ham, s)
    variants = [("a", True, "all"), ("aN", True, None)] + ([("a0", False, "all")] if ablation else [])
    for _, fast, energies in variants: check_same_program(ham, xs, dt, n, fast, energies)
    labels = {"a": "(a) hamux HAM.run (fused)", "aN": "(aN) HAM.run(energies=None), no energy trace",
              "a0": "(a0) HAM.run(fast=False), no layout rewrite"}
    out = {k: Contestant(labels[k], *fused(fast, energies)) for k, fast, energies in variants}
    out["b"] = Contestant("(b) hamux per-step loop", b_compile, b_run)
    return out


def reference_contestant(label, ref, params, xs, dt):
    def comp(): ref.lower(params, xs, jnp.float32(dt)).compile()
    def run():
        s, E = ref(params, xs, jnp.float32(dt))
        return s, None if E is None else E[-1]
    return Contestant(label, comp, run)


def bare_contestant(label, f, args, n):
    "(d): `f(*args)`, the products of one step as bare ops, called `n` times"
    f = jax.jit(f)
    def comp(): f.lower(*args).compile()
    def run():
        for _ in range(n): _block(f(*args))
        return None
    return Contestant(label, comp, run)


def matmul_products(shapes):
    "(d) for a list of `(b, m, k, n)` products: `(b, m, k) @ (b, k, n)`, or `(m, k) @ (k, n)` where b is None"
    lhs = [jnp.ones((m, k) if b is None else (b, m, k), jnp.float32) for b, m, k, _ in shapes]
    rhs = [0.02 * jnp.ones((k, n) if b is None else (b, k, n), jnp.float32) for b, _, k, n in shapes]
    return (lambda lhs, rhs: [jnp.matmul(a, c) for a, c in zip(lhs, rhs)]), (lhs, rhs)


DESCENT_PAIRS = {"a": "c", "aN": "cN", "a0": "c", "b": "cN"}


# --- W1-W3: dense
def dense_case(w, ablation=False):
    weights, xs = make_data(w)
    ham = make_dense_ham(w, weights)
    cs = hamux_descent(ham, xs, w.dt, w.nsteps, ablation)
    cs["c"] = reference_contestant("(c) hand-written JAX", R.make_reference(w), weights, xs, w.dt)
    cs["cN"] = reference_contestant("(cN) hand-written JAX, no energy trace", R.make_reference(w, energies=False), weights, xs, w.dt)
    f, args = matmul_products([(None, m, k, n) for m, k, n in w.matmuls()])
    cs["d"] = bare_contestant("(d) jnp.dot only", f, args, w.nsteps)
    return Case(w.name, w.title, w.batch, w.nsteps, w.flops_per_step() * w.nsteps, cs, ("c",), DESCENT_PAIRS,
                ham=ham, xs=xs, dt=w.dt)


# --- W4: the registry's conv HAM
def conv_params(ham):
    "The conv HAM's weights as the hand-written reference takes them"
    (c0, c1, hid), layers = ham.synapses, ham.layers
    return {"K0": c0.conv.kernel, "b0": c0.conv.bias, "K1": c1.conv.kernel, "b1": c1.conv.bias, "Wh0": hid.Ws[0], "Wh1": hid.Ws[1],
            "betas": [l.lagrangian.beta for l in layers]}


def conv_layer_activations(kinds):
    "`activations(params, xs)` for layers of these kinds, each tanh and softmax with its own inverse temperature `params['betas'][l]`"
    def activations(params, xs):
        return [R.act_and_lagrangian(k, x, b) for k, x, b in zip(kinds, xs, params["betas"])]
    return activations


def conv_alignments():
    spec = CONV_W4
    convs = [(s["strides"], s["padding"], s["pool"]) for s in spec["convs"]]
    return (R.conv_ham_alignment(convs, R.conv_lax, R.avg_pool_lax), R.conv_ham_alignment(convs, R.conv_windows, R.avg_pool_windows))


def conv_bare(spec, batch):
    "(d) for W4: each convolution with XLA's conv and its transpose (the input gradient), and the hidden layer's products"
    x0 = [jnp.ones((batch, *s["in"]), jnp.float32) for s in spec["convs"]]
    Ks = [0.02 * jnp.ones(s["kernel"], jnp.float32) for s in spec["convs"]]
    cts = [jnp.ones((batch, *s["conv_out"]), jnp.float32) for s in spec["convs"]]
    dots, dargs = matmul_products([(None, batch, k, n) for k, n in spec["hidden_products"]])
    def f(x0, Ks, cts, dargs):
        out = []
        for s, x, K, ct in zip(spec["convs"], x0, Ks, cts):
            conv = lambda x: jax.lax.conv_general_dilated(x, K, s["strides"], s["padding"], dimension_numbers=("NHWC", "HWIO", "NHWC"))
            y, pull = jax.vjp(conv, x)
            out += [y, pull(ct)[0]]
        return out + dots(*dargs)
    return f, (x0, Ks, cts, dargs)


def conv_case(ablation=False, batch=None, nsteps=None):
    spec = CONV_W4
    batch = batch or spec["batch"]
    ham, _ = create_model("conv_ham_avgpool_mnist")
    ham = ham.init_params(0)
    xs = make_states([l.shape for l in ham.layers], batch)
    dt, n, kinds = spec["dt"], nsteps or spec["nsteps"], spec["kinds"]
    p = conv_params(ham)
    acts = conv_layer_activations(kinds)
    lax_align, win_align = conv_alignments()
    cs = hamux_descent(ham, xs, dt, n, ablation)
    cs["c"] = reference_contestant("(c) hand-written, lax conv + reduce_window", R.make_descent(acts, lax_align, n), p, xs, dt)
    cs["c"].rounds = 3  # XLA's CPU convolutions in a loop: ten times slower than the rest
    cs["w"] = reference_contestant("(w) hand-written, windows + matmul", R.make_descent(acts, win_align, n), p, xs, dt)
    cs["wN"] = reference_contestant("(wN) the same, no energy trace", R.make_descent(acts, win_align, n, energies=False), p, xs, dt)
    f, args = conv_bare(spec, batch)
    cs["d"] = bare_contestant("(d) lax conv, its transpose and jnp.dot only", f, args, n)
    return Case("W4", spec["title"], batch, n, conv_products(spec, batch) * n, cs, ("c", "w"),
                {**DESCENT_PAIRS, "aN": "wN", "b": "wN"}, ham=ham, xs=xs, dt=dt)  # (c) without the trace would be as slow as (c): left out


# --- W5: one Energy Transformer block
def et_ham(spec):
    N, D = spec["tokens"], spec["dim"]
    return HAM([LayerNormLayer((N, D))],
               [SelfAttentionSynapse(num_heads=spec["heads"], zspace_dim=spec["zdim"], mask_diagonal=True),
                DenseMatrixSynapseWithHiddenLayer(spec["nhid"], do_ravel=False)],
               [((0,), 0), ((0,), 1)]).init_params(0)


def et_params(ham):
    att, hid = ham.synapses
    return {"Wq": att.Wq, "Wk": att.Wk, "beta_attn": att.hidden_lagrangian.beta, "W": hid.Ws[0]}


def et_case(ablation=False, batch=None, nsteps=None):
    spec = ET_W5
    batch = batch or spec["batch"]
    ham = et_ham(spec)
    xs = make_states([l.shape for l in ham.layers], batch)
    dt, n = spec["dt"], nsteps or spec["nsteps"]
    p = et_params(ham)
    acts = R.layer_activations(["layernorm"])
    cs = hamux_descent(ham, xs, dt, n, ablation)
    cs["c"] = reference_contestant("(c) hand-written einsum", R.make_descent(acts, R.et_alignment, n), p, xs, dt)
    cs["cN"] = reference_contestant("(cN) the same, no energy trace", R.make_descent(acts, R.et_alignment, n, energies=False), p, xs, dt)
    f, args = matmul_products(et_products(spec, batch))
    cs["d"] = bare_contestant("(d) the same products as bare jnp.matmul", f, args, n)
    return Case("W5", spec["title"], batch, n, sum(2 * (b or 1) * m * k * nn for b, m, k, nn in et_products(spec, batch)) * n, cs,
                ("c",), DESCENT_PAIRS, ham=ham, xs=xs, dt=dt)


# --- T1, T4: one training step
def _untraced_loss(nsteps, dt):
    "classification_loss's math through HAM.run(energies=None): the training step without the energy trace"
    def loss(ham, x, y):
        xs = [x] + [jnp.zeros((x.shape[0], *l.shape), x.dtype) for l in ham.layers[1:]]
        logits = ham.run(xs, nsteps, dt, masks=clamp_masks(ham, [0]), energies=None).xs[-1]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss


def train_contestants(ham, to_ref, acts, aligns, spec, x, y, lr):
    """{key: Contestant}: (a) make_train_step(classification_loss), (aN) the same loss through HAM.run(energies=None),
    and a hand-written step per alignment in `aligns` ({key: (label, alignment, rounds)}); each run returns (loss, new params as
    the reference holds them). The timed steps use adam; `check_steps` the same programs with sgd(1), whose update is the gradient."""
    n, dt = spec["nsteps"], spec["dt"]
    free = [l.shape for l in ham.layers[1:]]
    def contestants(opt):
        out = {}
        for key, label, loss_fn in [("a", "(a) hamux make_train_step(classification_loss)", classification_loss(n, dt)),
                                    ("aN", "(aN) the same loss through HAM.run(energies=None)", _untraced_loss(n, dt))]:
            step, state = make_train_step(loss_fn, opt), opt.init(ham.parameters())
            def comp(step=step, state=state): step.lower(ham, state, x, y).compile()
            def run(step=step, state=state):
                h, _, loss, _ = step(ham, state, x, y)
                return loss, to_ref(h)
            out[key] = Contestant(label, comp, run)
        p = to_ref(ham)
        for key, (label, align, rounds) in aligns.items():
            step, state = R.make_train_step(acts, align, opt, n, dt, free), opt.init(p)
            def comp(step=step, state=state): step.lower(p, state, x, y).compile()
            def run(step=step, state=state):
                q, _, loss = step(p, state, x, y)
                return loss, q
            out[key] = Contestant(label, comp, run, rounds)
        return out
    return contestants(optax.adam(lr)), contestants(optax.sgd(1.0))


def classifier_params(ham):
    img, lab = ham.layers
    Ws = ham.synapses[0].Ws
    return {"Wh0": Ws[0], "Wh1": Ws[1], "betas": [1.0, lab.lagrangian.beta]}


def train_data(spec, shape, batch):
    kx, ky = jax.random.split(jax.random.PRNGKey(1))
    return jax.random.uniform(kx, (batch, *shape), jnp.float32), jax.random.randint(ky, (batch,), 0, 10)


def t1_case(batch=None):
    from hamux.training import image_label_ham
    spec = TRAIN_T1
    batch = batch or spec["batch"]
    ham = image_label_ham(spec["pixels"], 10, nhid=spec["nhid"]).init_params(0)
    x, y = train_data(spec, (spec["pixels"],), batch)
    acts = conv_layer_activations(["identity", "softmax"])
    timed, checked = train_contestants(ham, classifier_params, acts, {"c": ("(c) hand-written value_and_grad", R.classifier_alignment, None)},
                                       spec, x, y, spec["lr"])
    flops = 3 * spec["nsteps"] * sum(2 * batch * k * nn for k, nn in spec["products"])
    return Case("T1", spec["title"], batch, spec["nsteps"], flops, timed, ("c",), {"a": "c", "aN": "c"}, kind="train",
                ham=ham), checked, (x, y)


def t4_case(batch=None):
    spec, conv = TRAIN_T4, CONV_W4
    batch = batch or spec["batch"]
    ham, _ = create_model("conv_ham_avgpool_mnist")
    ham = ham.init_params(0)
    x, y = train_data(spec, ham.layers[0].shape, batch)
    acts = conv_layer_activations(conv["kinds"])
    lax_align, win_align = conv_alignments()
    timed, checked = train_contestants(ham, conv_params, acts, {"c": ("(c) hand-written value_and_grad, lax conv", lax_align, 3),
                                                                 "w": ("(w) hand-written value_and_grad, windows + matmul", win_align, None)},
                                       spec, x, y, spec["lr"])
    flops = 3 * spec["nsteps"] * conv_products(conv, batch)
    return Case("T4", spec["title"], batch, spec["nsteps"], flops, timed, ("c", "w"), {"a": "c", "aN": "c"}, kind="train",
                ham=ham), checked, (x, y)


def t1_memory(nsteps_list=(10, 100, 1000), batch=None):
    """XLA's compiled memory analysis of one T1 training step for each nsteps: hamux (a) and (aN), and the hand-written (c)"""
    from hamux.training import image_label_ham
    spec = TRAIN_T1
    batch = batch or spec["batch"]
    ham = image_label_ham(spec["pixels"], 10, nhid=spec["nhid"]).init_params(0)
    x, y = train_data(spec, (spec["pixels"],), batch)
    opt = optax.adam(spec["lr"])
    acts = conv_layer_activations(["identity", "softmax"])
    p = classifier_params(ham)
    rows = []
    for n in nsteps_list:
        row = {"nsteps": n}
        for key, loss_fn in (("a", classification_loss(n, spec["dt"])), ("aN", _untraced_loss(n, spec["dt"]))):
            row[key] = _memory(make_train_step(loss_fn, opt).lower(ham, opt.init(ham.parameters()), x, y).compile())
        row["c"] = _memory(R.make_train_step(acts, R.classifier_alignment, opt, n, spec["dt"], [(10,)]).lower(p, opt.init(p), x, y).compile())
        rows.append(row)
    return {"workload": "T1", "batch": batch, "rows": rows}


def _memory(compiled):
    m = compiled.memory_analysis()
    d = {k: int(getattr(m, k)) for k in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes", "alias_size_in_bytes")}
    d["total_bytes"] = d["argument_size_in_bytes"] + d["output_size_in_bytes"] + d["temp_size_in_bytes"] - d["alias_size_in_bytes"]
    return d


def descent_memory(case):
    """Bytes XLA plans for `HAM.run` with 10 and 1,000 steps (and 1,000 keeping the trajectory, for contrast).

    `run` returns the energy of every sample before each step and after the last, `(nsteps + 1, bs)` floats, so its
    output grows with `nsteps` by exactly that trace; everything else must stay within the states' size."""
    ham, xs = case.ham, case.xs
    def analyse(nsteps, keep):
        args, kwargs = run_args(ham, xs, case.dt, nsteps, keep=keep)
        return _memory(_run.lower(*args, **kwargs).compile())
    states = sum(int(x.size) * x.dtype.itemsize for x in xs)
    r10, r1000, traj = analyse(10, False), analyse(1000, False), analyse(1000, True)
    growth = r1000["total_bytes"] - r10["total_bytes"]
    energy_trace = (1000 - 10) * case.batch * 4  # the extra rows of the returned energies
    return {"workload": case.name, "states_bytes": states, "run_10": r10, "run_1000": r1000, "run_1000_trajectory": traj,
            "growth_bytes": growth, "energy_trace_growth_bytes": energy_trace, "ok": growth - energy_trace <= states}


def build(name, ablation=False, quick=False):
    "(case, contestants for the same-work check or None, training data or None) of workload `name`"
    if name in {w.name for w in WORKLOADS}:
        w = next(w for w in WORKLOADS if w.name == name)
        if quick: w = w.quick()
        return dense_case(w, ablation), None, None
    small, n = ({"W4": 16, "W5": 16, "T1": 64, "T4": 16}, 10) if quick else ({}, None)
    if name == "W4": return conv_case(ablation, small.get(name), n), None, None
    if name == "W5": return et_case(ablation, small.get(name), n), None, None
    if name == "T1": return t1_case(small.get(name))
    if name == "T4": return t4_case(small.get(name))
    raise KeyError(name)


ALL = [w.name for w in WORKLOADS] + ["W4", "W5", "T1", "T4"]
