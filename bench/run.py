"""Benchmark hamux's fused descent against hand-written JAX: `make bench` (or `.venv/bin/python bench/run.py`).

Contestants, all in this process and on the same workloads (bench/workloads.py), weights and initial states:
  (a) hamux  `HAM.run`: the fused descent (one `lax.scan` in one `jit`)
  (b) hamux  per-step: a jitted `ham.step(xs, ham.vupdates(xs), dt)` called from a Python loop (no energy trace)
  (c) reference: hand-written pure JAX (bench/reference.py), the practical limit for this math here
  (d) matmul: only the step's matrix products, as plain `jnp.dot`s in canonical layout, once per step
  (a0, with --ablation) `HAM.run(..., fast=False)`: the same descent without the layout rewrite of hamux.fastpath,
      the plain `vmap` of the autodiff step
For each: compile time (trace + lower + XLA compile, best of 3, from empty caches), then the median and min of
`--repeats` timed runs, steps per second, throughput relative to (c), and achieved GFLOP/s of the step's matrix
products. The compile time of (a) and (a0) is that of the very program `HAM.run` runs (checked: compiling it adds no
entry to the cache that `HAM.run` filled). The contestants take turns within every round (starting with a different one each round), and
"vs (c)" is the median over rounds of (c)'s time divided by the contestant's time in the same round, so a machine
shared with other work slows both sides of each ratio alike; "min/min" compares the best runs. Before timing,
(a), (b), (c) (and (a0)) must reach the same final states and energies to float32 tolerance. Then the memory of
`HAM.run` with 10 and with 1,000 steps, from XLA's compiled memory analysis. Prints tables; writes JSON to
bench/results/ (git-ignored). Exit status 0 when every target is met.
"""
import argparse, datetime, json, os, platform, statistics, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jax
import jax.numpy as jnp
import numpy as np

import hamux
from hamux.ham import HAM, _run
from hamux.lagrangians import LSoftmax
from hamux.layers import IdentityLayer, ReluLayer, SoftmaxLayer, TanhLayer
from hamux.synapses import DenseMatrixSynapseWithHiddenLayer, DenseSynapse

from reference import make_reference
from workloads import WORKLOADS, make_data

LAYERS = {"identity": IdentityLayer, "tanh": TanhLayer, "relu": ReluLayer, "softmax": SoftmaxLayer}
TARGET_RATIO, TARGET_COMPILE = 0.9, 2.0


def _const(W):
    "An initializer that returns `W` (so hamux starts from the same weights as every other contestant)"
    def init(key, shape, dtype=jnp.float32):
        if tuple(shape) != W.shape: raise ValueError(f"bench: initializer asked for shape {tuple(shape)}, weights are {W.shape}")
        return W.astype(dtype)
    return init


def make_ham(w, weights):
    "The workload as a hamux HAM whose synapses hold `weights`"
    layers = [LAYERS[kind]((n,), tau=w.tau) for n, kind in w.layers]
    synapses, connections = [], []
    for idx, (s, W) in enumerate(zip(w.synapses, weights)):
        if s[0] == "dense":
            synapses.append(DenseSynapse(W_init=_const(W))); connections.append(((s[1], s[2]), idx))
        else:
            hidden = DenseMatrixSynapseWithHiddenLayer(s[2], hidden_lagrangian=LSoftmax(), W_init=_const(W.T))  # Ws[0] is (size, nhid)
            synapses.append(hidden); connections.append(((s[1],), idx))
    return HAM(layers, synapses, connections).init_params(0)


def _block(x): return jax.block_until_ready(x)


def _compile_time(compile_fn, n=3):
    "Best of `n` timings of `compile_fn` (trace, lower, XLA compile), each from empty caches"
    ts = []
    for _ in range(n):
        jax.clear_caches()
        t0 = time.perf_counter(); compile_fn(); ts.append(time.perf_counter() - t0)
    return min(ts)


def run_args(ham, xs, dt, nsteps, keep=False, fast=True):
    "`(args, kwargs)` with which `HAM.run(xs, nsteps, dt, return_trajectory=keep, fast=fast)` calls the compiled descent `_run`"
    return (ham, list(xs), [None] * len(xs), jnp.asarray(dt, jnp.float32), nsteps, True, keep), {"fast": fast, "check": True}


def check_same_program(ham, xs, dt, nsteps, fast):
    "Exit unless `_run(*run_args(...))` is the program `HAM.run` compiled: calling it must add nothing to `_run`'s cache"
    _run._clear_cache()
    _block(ham.run(xs, nsteps, dt, fast=fast).xs)
    n = _run._cache_size()
    args, kwargs = run_args(ham, xs, dt, nsteps, fast=fast)
    _block(_run(*args, **kwargs)[0])
    if _run._cache_size() != n:
        raise SystemExit(f"bench: run_args(fast={fast}) no longer gives the arguments HAM.run passes to _run, so the compile time "
                         f"measured would be that of another program; update run_args to match HAM.run")


def contestants(w, weights, xs, ablation=False):
    "{key: (label, compile(), run() -> (final states, final energies))}"
    ham, dt = make_ham(w, weights), w.dt
    n = w.nsteps
    # (a) the fused descent: its compile time is that of the program HAM.run runs (energy check included)
    def a_compile():
        args, kwargs = run_args(ham, xs, dt, n)
        _run.lower(*args, **kwargs).compile()
    def a_run():
        r = ham.run(xs, n, dt)
        return r.xs, r.energies[-1]
    # (b) the per-step path
    step = jax.jit(lambda h, xs, dt: h.step(xs, h.vupdates(xs), dt))
    venergy = jax.jit(lambda h, xs: h.venergy(xs))
    def b_compile(): step.lower(ham, xs, dt).compile()
    def b_run():
        s = xs
        for _ in range(n): s = step(ham, s, dt)
        return s, venergy(ham, s)
    # (c) the hand-written reference
    ref = make_reference(w)
    def c_compile(): ref.lower(weights, xs, jnp.float32(dt)).compile()
    def c_run():
        s, E = ref(weights, xs, jnp.float32(dt))
        return s, E[-1]
    # (d) only the matrix products of one step, called once per step
    lhs = [jnp.ones((m, k), jnp.float32) for m, k, _ in w.matmuls()]
    rhs = [0.02 * jnp.ones((k, nn), jnp.float32) for _, k, nn in w.matmuls()]
    dots = jax.jit(lambda lhs, rhs: [jnp.dot(a, b) for a, b in zip(lhs, rhs)])
    def d_compile(): dots.lower(lhs, rhs).compile()
    def d_run():
        for _ in range(n): _block(dots(lhs, rhs))
        return None, None
    # (a0) the fused descent without the layout rewrite (the plain vmap of the autodiff step), for comparison
    def a0_compile():
        args, kwargs = run_args(ham, xs, dt, n, fast=False)
        _run.lower(*args, **kwargs).compile()
    def a0_run():
        r = ham.run(xs, n, dt, fast=False)
        return r.xs, r.energies[-1]
    for fast in (True, False) if ablation else (True,): check_same_program(ham, xs, dt, n, fast)
    extra = {"a0": ("(a0) HAM.run(fast=False), no layout rewrite", a0_compile, a0_run)} if ablation else {}
    return {"a": ("(a) hamux HAM.run (fused)", a_compile, a_run), **extra,
            "b": ("(b) hamux per-step loop", b_compile, b_run),
            "c": ("(c) hand-written JAX", c_compile, c_run),
            "d": ("(d) jnp.dot only", d_compile, d_run)}


def check_same_work(w, outs):
    "(a), (b) (and (a0)) reach the same final states and energies as (c), to float32 tolerance"
    xc, Ec = outs["c"]
    scale = float(jnp.max(jnp.abs(Ec)))
    report = {}
    for k, (xk, Ek) in {k: outs[k] for k in ("a", "a0", "b") if k in outs}.items():
        dE = float(jnp.max(jnp.abs(Ek - Ec)))
        dx = max(float(jnp.max(jnp.abs(p - q))) for p, q in zip(xk, xc))
        report[k] = {"max_abs_energy_diff": dE, "rel_energy_diff": dE / max(scale, 1.0), "max_abs_state_diff": dx}
        if not (dE <= 1e-4 * max(scale, 1.0) and dx <= 1e-3):
            raise SystemExit(f"bench {w.name}: contestant ({k}) does not do the same work as (c): "
                             f"final energies differ by {dE:.3g} (scale {scale:.3g}), states by {dx:.3g}")
    return {"energy_scale": scale, **report}


def bench_workload(w, repeats, ablation=False):
    weights, xs = make_data(w)
    cs = contestants(w, weights, xs, ablation)
    outs = {k: jax.tree_util.tree_map(np.asarray, run()) for k, (_, _, run) in cs.items() if k != "d"}
    check = check_same_work(w, outs)
    compile_s = {k: _compile_time(comp) for k, (_, comp, _) in cs.items()}
    for _, _, run in cs.values(): _block(run())  # warm up
    times, keys = {k: [] for k in cs}, list(cs)
    for r in range(repeats):  # every round times each contestant once, starting with a different one each round
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t0 = time.perf_counter(); _block(cs[k][2]()); times[k].append(time.perf_counter() - t0)
    flops = w.flops_per_step() * w.nsteps
    rows = {}
    for k, (label, _, _) in cs.items():
        med, mn = statistics.median(times[k]), min(times[k])
        paired = statistics.median(tc / tk for tc, tk in zip(times["c"], times[k]))  # same round, so the same load
        rows[k] = {"label": label, "compile_s": compile_s[k], "median_s": med, "min_s": mn, "times_s": times[k],
                   "steps_per_s": w.nsteps / med, "vs_c": paired, "vs_c_min": min(times["c"]) / mn,
                   "gflops_median": flops / med / 1e9, "gflops_best": flops / mn / 1e9}
    out = {"workload": w.name, "title": w.title, "batch": w.batch, "nsteps": w.nsteps, "dt": w.dt,
           "matmuls_mkn": w.matmuls(), "gflop_per_run": flops / 1e9, "check": check, "contestants": rows}
    if "a0" in cs:  # the rewrite's own gain, paired within rounds like vs (c)
        out["ablation"] = {"speedup_median": statistics.median(t0 / ta for t0, ta in zip(times["a0"], times["a"])),
                           "speedup_min_min": min(times["a0"]) / min(times["a"])}
    return out


def memory(w):
    """Bytes XLA plans for `HAM.run` with 10 and 1,000 steps (and 1,000 keeping the trajectory, for contrast).

    `run` returns the energy of every sample before each step and after the last, `(nsteps + 1, bs)` floats, so its
    output grows with `nsteps` by exactly that trace; everything else must stay within the states' size."""
    weights, xs = make_data(w)
    ham = make_ham(w, weights)
    def analyse(nsteps, keep):
        args, kwargs = run_args(ham, xs, w.dt, nsteps, keep=keep)
        m = _run.lower(*args, **kwargs).compile().memory_analysis()
        d = {k: int(getattr(m, k)) for k in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes", "alias_size_in_bytes")}
        d["total_bytes"] = d["argument_size_in_bytes"] + d["output_size_in_bytes"] + d["temp_size_in_bytes"] - d["alias_size_in_bytes"]
        return d
    states = sum(int(x.size) * x.dtype.itemsize for x in xs)
    r10, r1000, traj = analyse(10, False), analyse(1000, False), analyse(1000, True)
    growth = r1000["total_bytes"] - r10["total_bytes"]
    energy_trace = (1000 - 10) * w.batch * 4  # the extra rows of the returned energies
    return {"workload": w.name, "states_bytes": states, "run_10": r10, "run_1000": r1000, "run_1000_trajectory": traj,
            "growth_bytes": growth, "energy_trace_growth_bytes": energy_trace,
            "ok": growth - energy_trace <= states}


def _mb(b): return f"{b / 2**20:.2f}"


def print_tables(results):
    out = []
    for r in results["workloads"]:
        out.append(f"\n{r['workload']} {r['title']}; batch {r['batch']}, {r['nsteps']} steps, "
                   f"{r['gflop_per_run']:.1f} GFLOP of matmuls per run")
        out.append("| contestant | compile s | median s | min s | steps/s | vs (c) | vs (c), min/min | GFLOP/s median | GFLOP/s best |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for row in r["contestants"].values():
            out.append(f"| {row['label']} | {row['compile_s']:.2f} | {row['median_s']:.3f} | {row['min_s']:.3f} | "
                       f"{row['steps_per_s']:.0f} | {row['vs_c']:.2f} | {row['vs_c_min']:.2f} | "
                       f"{row['gflops_median']:.0f} | {row['gflops_best']:.0f} |")
        c = r["check"]
        ks = [k for k in ("a", "a0", "b") if k in c]
        out.append(f"same work: final energies (scale {c['energy_scale']:.1f}) differ from (c) by "
                   + ", ".join(f"{c[k]['max_abs_energy_diff']:.2g} ({k})" for k in ks) + "; states by "
                   + ", ".join(f"{c[k]['max_abs_state_diff']:.2g} ({k})" for k in ks))
    if any("ablation" in r for r in results["workloads"]):
        out.append("\nAblation: the layout rewrite (hamux.fastpath), HAM.run(fast=True) (a) against HAM.run(fast=False) (a0)")
        out.append("| workload | (a) median s | (a0) median s | (a0) / (a), paired median | min/min | (a) vs (c) | (a0) vs (c) |")
        out.append("|---|---|---|---|---|---|---|")
        for r in results["workloads"]:
            if "ablation" not in r: continue
            a, a0, ab = r["contestants"]["a"], r["contestants"]["a0"], r["ablation"]
            out.append(f"| {r['workload']} | {a['median_s']:.3f} | {a0['median_s']:.3f} | {ab['speedup_median']:.2f} | "
                       f"{ab['speedup_min_min']:.2f} | {a['vs_c']:.2f} | {a0['vs_c']:.2f} |")
    out.append("\nMemory of HAM.run (XLA compiled memory analysis: arguments + outputs + temporaries, MiB)")
    out.append("| workload | states | 10 steps | 1,000 steps | growth | of which energies returned | 1,000 steps with trajectory | growth - energies <= states |")
    out.append("|---|---|---|---|---|---|---|---|")
    for m in results["memory"]:
        out.append(f"| {m['workload']} | {_mb(m['states_bytes'])} | {_mb(m['run_10']['total_bytes'])} | {_mb(m['run_1000']['total_bytes'])} | "
                   f"{_mb(m['growth_bytes'])} | {_mb(m['energy_trace_growth_bytes'])} | {_mb(m['run_1000_trajectory']['total_bytes'])} | "
                   f"{'yes' if m['ok'] else 'NO'} |")
    out.append("\nTargets")
    for t in results["targets"]: out.append(f"- {'PASS' if t['ok'] else 'MISS'} {t['what']}")
    print("\n".join(out))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7, help="timed runs per contestant (at least 5)")
    p.add_argument("--workloads", default=",".join(w.name for w in WORKLOADS), help="comma-separated, e.g. W1,W3")
    p.add_argument("--out", default=str(HERE / "results"), help="folder for the JSON results")
    p.add_argument("--ablation", action="store_true", help="also time (a0): HAM.run(fast=False), without the layout rewrite")
    args = p.parse_args(argv)
    if args.repeats < 5: p.error(f"--repeats must be at least 5, got {args.repeats}")
    names = args.workloads.split(",")
    unknown = [n for n in names if n not in {w.name for w in WORKLOADS}]
    if unknown: p.error(f"unknown workload {unknown[0]!r}; choose from {[w.name for w in WORKLOADS]}")
    ws = [w for w in WORKLOADS if w.name in names]
    t0 = time.time()
    started = datetime.datetime.now().astimezone()
    load0 = os.getloadavg()
    print(f"hamux {hamux.__version__}, jax {jax.__version__}, {jax.devices()[0].platform} x{jax.device_count()}, "
          f"{os.cpu_count()} cores; load average {load0[0]:.2f}; {started:%Y-%m-%d %H:%M %Z}", flush=True)
    results = {"date": started.isoformat(timespec="seconds"), "command": " ".join([Path(sys.executable).name] + sys.argv),
               "machine": {"platform": platform.platform(), "processor": _cpu_name(), "cores": os.cpu_count(),
                           "jax": jax.__version__, "backend": jax.devices()[0].platform, "devices": jax.device_count(),
                           "load_average_start": load0},
               "repeats": args.repeats, "workloads": [], "memory": []}
    for w in ws:
        print(f"{w.name}: checking, compiling, timing ...", flush=True)
        results["workloads"].append(bench_workload(w, args.repeats, args.ablation))
        results["memory"].append(memory(w))
    results["machine"]["load_average_end"] = os.getloadavg()
    targets = []
    for r in results["workloads"]:
        a, c = r["contestants"]["a"], r["contestants"]["c"]
        targets.append({"what": f"{r['workload']}: (a) throughput >= {TARGET_RATIO}x (c) ({a['vs_c']:.2f}; min/min {a['vs_c_min']:.2f})",
                        "ok": a["vs_c"] >= TARGET_RATIO})
        targets.append({"what": f"{r['workload']}: (a) compile time <= {TARGET_COMPILE}x (c) ({a['compile_s']:.2f} s vs {c['compile_s']:.2f} s)",
                        "ok": a["compile_s"] <= TARGET_COMPILE * c["compile_s"]})
    for m in results["memory"]:
        targets.append({"what": f"{m['workload']}: run(1000 steps) memory <= run(10 steps) + states, besides the energies it returns", "ok": m["ok"]})
    results["targets"] = targets
    results["wall_s"] = time.time() - t0
    print_tables(results)
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{started:%Y%m%d-%H%M%S}.json"
    text = json.dumps(results, indent=1)
    path.write_text(text); (out / "latest.json").write_text(text)
    print(f"\nwrote {path} (and latest.json); {results['wall_s']:.0f} s in all; load average at the end {results['machine']['load_average_end'][0]:.2f}")
    return 0 if all(t["ok"] for t in targets) else 1


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
