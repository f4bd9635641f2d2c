"""Benchmark hamux against hand-written JAX of the same math: `make bench` (or `.venv/bin/python bench/run.py`).

Workloads (bench/workloads.py), each with its contestants (bench/cases.py) on the same weights and inputs:
  W1-W3  dense descents (100 Euler steps, batch 256)           W4  the registry's conv HAM (batch 64)
  W5     one Energy Transformer block on 49 tokens (batch 64)   T1, T4  one training step (10 descent steps + adam)
Contestants of a descent: (a) `HAM.run` (one `lax.scan` in one `jit`, with the energy trace), (aN) `HAM.run(energies=None)`,
(b) a jitted `ham.step` called from a Python loop, (c)/(cN) hand-written JAX (bench/reference.py) with and without
the energy trace, for W4 also (w)/(wN), hand-written with the convolutions as windows and one matmul, and (d) only the
step's products as bare ops, once per step (the distance to this machine's limit). With --ablation, (a0)
`HAM.run(fast=False)`, without the layout rewrite of hamux.fastpath. Of a training step: (a) `make_train_step` of
`classification_loss`, (aN) the same loss through `HAM.run(energies=None)`, and the hand-written `jax.value_and_grad`
of the same unrolled descent, (c) (and for T4 (w)).

For each: compile time (trace + lower + XLA compile, best of 3, from empty caches; for (a) the very program `HAM.run`
runs, checked by its cache), then the median and min of `--repeats` timed runs, throughput relative to the hand-written
ones, and GFLOP/s of the products. The contestants take turns within every round (starting with a different one each
round), and "vs (c)" is the median over rounds of (c)'s time divided by the contestant's in the same round, so a machine
shared with other work slows both sides of each ratio alike (the lax-conv references of W4 and T4, ten times slower than
the rest, take part in the first 3 rounds only). Before timing, every contestant must do the same work as
(c) to float32 tolerance: final states and energies of a descent; loss and gradient of a training step. Then memory, from
XLA's compiled memory analysis: `HAM.run` with 10 and 1,000 steps, and a T1 training step with 10, 100 and 1,000.
Prints tables; writes JSON to bench/results/ (git-ignored). Exit status 0 when every target is met (issue 14):
(a) and (aN) >= 0.9x the speed of the hand-written contestant doing the same work, (a)'s compile time <= 2x (c)'s in
the same run, and the descent's memory flat in nsteps. `--quick`: small sizes, few repeats, no targets, for a smoke run.
"""
import argparse, datetime, json, os, platform, statistics, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jax
import numpy as np

import hamux

import cases as C

TARGET_RATIO, TARGET_COMPILE = 0.9, 2.0


def _block(x): return jax.block_until_ready(x)


def _compile_time(compile_fn, n=3):
    "Best of `n` timings of `compile_fn` (trace, lower, XLA compile), each from empty caches"
    ts = []
    for _ in range(n):
        jax.clear_caches()
        t0 = time.perf_counter(); compile_fn(); ts.append(time.perf_counter() - t0)
    return min(ts)


def _maxdiff(a, b):
    return max((float(np.max(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64)))) for p, q in
                zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))), default=0.0)


def check_descent(case, outs):
    "Every contestant reaches the final states and energies of (c), to float32 tolerance"
    xc, Ec = outs["c"]
    scale = float(np.max(np.abs(Ec)))
    report = {"energy_scale": scale}
    for k, (xk, Ek) in outs.items():
        if k == "c": continue
        dx = _maxdiff(xk, xc)
        dE = None if Ek is None else float(np.max(np.abs(Ek - Ec)))
        report[k] = {"max_abs_state_diff": dx, "max_abs_energy_diff": dE}
        if dx > 1e-3 or (dE is not None and dE > 1e-4 * max(scale, 1.0)):
            raise SystemExit(f"bench {case.name}: contestant ({k}) does not do the same work as (c): states differ by {dx:.3g}, "
                             f"final energies by {dE} (scale {scale:.3g})")
    return report


def check_train(case, outs):
    "Every contestant's loss and gradient (the sgd(1) update) equal (c)'s: loss to 1e-5 relative, each gradient to 1e-3 of its largest entry"
    lc, pc = outs["c"]
    p0 = C.conv_params(case.ham) if case.name == "T4" else C.classifier_params(case.ham)
    gc = jax.tree_util.tree_map(lambda a, b: np.asarray(a, np.float64) - np.asarray(b, np.float64), p0, pc)
    report = {"loss": float(lc)}
    for k, (lk, pk) in outs.items():
        if k == "c": continue
        gk = jax.tree_util.tree_map(lambda a, b: np.asarray(a, np.float64) - np.asarray(b, np.float64), p0, pk)
        rel = max(float(np.max(np.abs(u - v))) / max(float(np.max(np.abs(v))), 1e-12)
                  for u, v in zip(jax.tree_util.tree_leaves(gk), jax.tree_util.tree_leaves(gc)) if np.max(np.abs(v)) > 0)
        dl = abs(float(lk) - float(lc))
        report[k] = {"loss_diff": dl, "max_rel_grad_diff": rel}
        if dl > 1e-5 * max(abs(float(lc)), 1.0) or rel > 1e-3:
            raise SystemExit(f"bench {case.name}: contestant ({k}) does not compute (c)'s training step: loss differs by {dl:.3g}, "
                             f"gradients by {rel:.3g} of their largest entries")
    return report


def bench_case(case, checked, repeats, compile_n):
    """Compile times, the same-work check, then `repeats` rounds of timed runs. Compile times are the best of `compile_n`
    for (a) and the first reference, else of one (none with `compile_n` 0)"""
    cs = case.contestants
    target = {"a", case.refs[0]}
    compile_s = {k: _compile_time(c.compile, compile_n if k in target else 1) if compile_n else None for k, c in cs.items()}
    outs = {k: jax.tree_util.tree_map(np.asarray, c.run()) for k, c in (checked or cs).items()}  # compiles once more, and warms up
    if case.kind == "train":
        check = check_train(case, outs)
        for c in cs.values(): _block(c.run())  # warm up the timed steps (the check ran their sgd twins)
    else: check = check_descent(case, {k: v for k, v in outs.items() if k != "d"})
    times, keys = {k: [] for k in cs}, list(cs)
    for r in range(repeats):  # every round times each contestant once, starting with a different one each round
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            if cs[k].rounds is not None and r >= cs[k].rounds: continue  # a slow one, timed in the first rounds only
            t0 = time.perf_counter(); _block(cs[k].run()); times[k].append(time.perf_counter() - t0)
    rows, hand = {}, [k for k in cs if k[0] in "cw"]  # the hand-written contestants
    for k, c in cs.items():
        med, mn = statistics.median(times[k]), min(times[k])
        vs = {ref: statistics.median(tr / tk for tr, tk in zip(times[ref], times[k])) for ref in hand}  # same round, same load
        rows[k] = {"label": c.label, "compile_s": compile_s[k], "median_s": med, "min_s": mn, "times_s": times[k],
                   "steps_per_s": case.nsteps / med, "vs": vs, "vs_c": vs[case.refs[0]], "vs_c_min": min(times[case.refs[0]]) / mn,
                   "gflops_median": case.flops / med / 1e9, "gflops_best": case.flops / mn / 1e9}
    same = {k: {"ref": r, "vs_ref": statistics.median(tr / tk for tr, tk in zip(times[r], times[k]))}
            for k, r in case.pairs.items() if k in cs and r in cs}
    out = {"workload": case.name, "title": case.title, "kind": case.kind, "batch": case.batch, "nsteps": case.nsteps,
           "gflop_per_run": case.flops / 1e9, "refs": list(case.refs), "check": check, "contestants": rows, "same_work": same,
           "compile_ratio": compile_s["a"] / compile_s[case.refs[0]] if compile_n else None}
    if "aN" in cs: out["trace_cost"] = statistics.median(ta / tn for ta, tn in zip(times["a"], times["aN"]))
    if "a0" in cs:  # the rewrite's own gain, paired within rounds like vs (c)
        out["ablation"] = {"speedup_median": statistics.median(t0 / ta for t0, ta in zip(times["a0"], times["a"])),
                           "speedup_min_min": min(times["a0"]) / min(times["a"])}
    return out


def _mb(b): return f"{b / 2**20:.2f}"
def _num(x): return "-" if x is None else f"{x:.2f}"


def print_tables(results):
    out = []
    for r in results["workloads"]:
        what = "training step" if r["kind"] == "train" else "run"
        out.append(f"\n{r['workload']} {r['title']}; batch {r['batch']}, {r['nsteps']} steps, "
                   f"{r['gflop_per_run']:.1f} GFLOP of products per {what}{' (forward + backward, approximate)' if r['kind'] == 'train' else ''}")
        refs = r["refs"]
        out.append("| contestant | compile s | median s | min s | " + " | ".join(f"vs ({k})" for k in refs) + " | vs (c), min/min | GFLOP/s median | GFLOP/s best |")
        out.append("|---|---|---|---|" + "---|" * len(refs) + "---|---|---|")
        for row in r["contestants"].values():
            out.append(f"| {row['label']} | {_num(row['compile_s'])} | {row['median_s']:.3f} | {row['min_s']:.3f} | "
                       + " | ".join(f"{row['vs'][k]:.2f}" for k in refs) + f" | {row['vs_c_min']:.2f} | "
                       f"{row['gflops_median']:.0f} | {row['gflops_best']:.0f} |")
        c = r["check"]
        if r["kind"] == "train":
            out.append(f"same work: loss {c['loss']:.4f}; " + ", ".join(f"({k}) loss differs by {v['loss_diff']:.2g}, gradients by "
                                                                       f"{v['max_rel_grad_diff']:.2g} of their largest entry" for k, v in c.items() if k != "loss"))
        else:
            out.append(f"same work (vs (c), energy scale {c['energy_scale']:.1f}): " + ", ".join(
                f"({k}) states {v['max_abs_state_diff']:.2g}" + ("" if v["max_abs_energy_diff"] is None else f", energies {v['max_abs_energy_diff']:.2g}")
                for k, v in c.items() if k != "energy_scale"))
    out.append("\nSummary: throughput of hamux relative to the hand-written JAX doing the same work (paired medians; > 1 is faster)")
    out.append("| workload | (a) run vs (c) | (aN) no trace vs (cN) | other reference | trace cost (a)/(aN) time | compile (a)/(c) | GFLOP/s (a) | GFLOP/s (d) bare |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in results["workloads"]:
        s, rows = r["same_work"], r["contestants"]
        other = "; ".join(f"(a) vs ({k}) {rows['a']['vs'][k]:.2f}" for k in r["refs"][1:]) or "-"
        aN = "-" if "aN" not in s else f"{s['aN']['vs_ref']:.2f}" + ("" if s["aN"]["ref"] == "cN" else f" (vs ({s['aN']['ref']}))")
        d = f"{rows['d']['gflops_median']:.0f}" if "d" in rows else "-"
        out.append(f"| {r['workload']} | {s['a']['vs_ref']:.2f} | {aN} | {other} | {r.get('trace_cost', float('nan')):.2f} | "
                   f"{_num(r['compile_ratio'])} | {rows['a']['gflops_median']:.0f} | {d} |")
    if any("ablation" in r for r in results["workloads"]):
        out.append("\nAblation: the layout rewrite (hamux.fastpath), HAM.run(fast=True) (a) against HAM.run(fast=False) (a0)")
        out.append("| workload | (a) median s | (a0) median s | (a0) / (a), paired median | min/min | (a) vs (c) | (a0) vs (c) |")
        out.append("|---|---|---|---|---|---|---|")
        for r in results["workloads"]:
            if "ablation" not in r: continue
            a, a0, ab = r["contestants"]["a"], r["contestants"]["a0"], r["ablation"]
            out.append(f"| {r['workload']} | {a['median_s']:.3f} | {a0['median_s']:.3f} | {ab['speedup_median']:.2f} | "
                       f"{ab['speedup_min_min']:.2f} | {a['vs_c']:.2f} | {a0['vs_c']:.2f} |")
    if results["memory"]:
        out.append("\nMemory of HAM.run (XLA compiled memory analysis: arguments + outputs + temporaries, MiB)")
        out.append("| workload | states | 10 steps | 1,000 steps | growth | of which energies returned | 1,000 steps with trajectory | growth - energies <= states |")
        out.append("|---|---|---|---|---|---|---|---|")
        for m in results["memory"]:
            out.append(f"| {m['workload']} | {_mb(m['states_bytes'])} | {_mb(m['run_10']['total_bytes'])} | {_mb(m['run_1000']['total_bytes'])} | "
                       f"{_mb(m['growth_bytes'])} | {_mb(m['energy_trace_growth_bytes'])} | {_mb(m['run_1000_trajectory']['total_bytes'])} | "
                       f"{'yes' if m['ok'] else 'NO'} |")
    if results.get("train_memory"):
        tm = results["train_memory"]
        out.append(f"\nMemory of one {tm['workload']} training step (batch {tm['batch']}; temporaries / total, MiB): backpropagation stores every descent step")
        out.append("| nsteps | (a) make_train_step | (aN) energies=None | (c) hand-written |")
        out.append("|---|---|---|---|")
        for row in tm["rows"]:
            out.append(f"| {row['nsteps']} | " + " | ".join(f"{_mb(row[k]['temp_size_in_bytes'])} / {_mb(row[k]['total_bytes'])}" for k in ("a", "aN", "c")) + " |")
    out.append("\nTargets" + (" (not judged with --quick)" if results["quick"] else ""))
    for t in results["targets"]: out.append(f"- {'PASS' if t['ok'] else 'MISS'} {t['what']}")
    print("\n".join(out))


def speed_markdown(results):
    "The README's speed section, from one run's results"
    m, date = results["machine"], results["date"][:10]
    ws = results["workloads"]
    out = ["## Speed", "",
           f"Measured {date} with `{results['command']}` on {m['processor']} ({m['cores']} cores, {m['backend']}, jax {m['jax']}; "
           f"load average {m['load_average_start'][0]:.1f} at the start, {m['load_average_end'][0]:.1f} at the end: "
           + ("the machine was shared, so compare the ratios, each taken within the same rounds, rather than the times"
              if m["load_average_start"][0] > 0.5 * m["cores"] else "nothing else was running") + "). Ratios are throughput relative to "
           f"hand-written JAX of the same math (bench/reference.py) in the same run: above 1 is faster. {results['repeats']} rounds each.", "",
           "| workload | batch x steps | hamux s (run or training step) | hamux (energy trace) vs hand-written | hamux `energies=None` vs hand-written without | "
           "vs other hand-written | cost of the trace | compile time vs hand-written | GFLOP/s hamux / bare ops |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in ws:
        rows, s = r["contestants"], r["same_work"]
        other = "; ".join(f"{rows['a']['vs'][k]:.2f} vs ({k})" for k in r["refs"][1:]) or "-"
        bare = f"{rows['d']['gflops_median']:.0f}" if "d" in rows else "-"
        aN = "-" if "aN" not in s else f"{s['aN']['vs_ref']:.2f}" + ("" if s["aN"]["ref"] == "cN" else f" vs ({s['aN']['ref']})")
        out.append(f"| {r['workload']}: {r['title'].split(':')[0]} | {r['batch']} x {r['nsteps']} | {rows['a']['median_s']:.3f} | "
                   f"{s['a']['vs_ref']:.2f} | {aN} | {other} | {r.get('trace_cost', float('nan')):.2f}x | {_num(r['compile_ratio'])}x | "
                   f"{rows['a']['gflops_median']:.0f} / {bare} |")
    out += ["", "The workloads: " + "; ".join(f"{r['workload']} {r['title'].split(': ', 1)[-1]}" for r in ws) + ". "
            "T1 and T4 time one training step: the loss and its gradient through 10 descent steps, and the adam update. "
            "W4's and T4's first reference writes the convolutions with `lax.conv_general_dilated` and `reduce_window`; "
            "(w) writes them as strided windows and one matmul, as hamux's conv synapses do."]
    abl = [r for r in ws if "ablation" in r]
    if abl:
        out += ["", "Ablation, the layout rewrite of `hamux.fastpath`: `HAM.run(fast=True)` against `HAM.run(fast=False)` in the same rounds", "",
                "| workload | fast=True vs hand-written | fast=False vs hand-written | speed-up of the rewrite |", "|---|---|---|---|"]
        for r in abl:
            out.append(f"| {r['workload']} | {r['contestants']['a']['vs_c']:.2f} | {r['contestants']['a0']['vs_c']:.2f} | {r['ablation']['speedup_median']:.2f}x |")
    if results["memory"]:
        out += ["", "Memory of `HAM.run` (XLA's compiled memory analysis, MiB): flat in the number of steps, apart from the energies it returns", "",
                "| workload | 10 steps | 1,000 steps | 1,000 steps keeping the trajectory |", "|---|---|---|---|"]
        for mm in results["memory"]:
            out.append(f"| {mm['workload']} | {_mb(mm['run_10']['total_bytes'])} | {_mb(mm['run_1000']['total_bytes'])} | {_mb(mm['run_1000_trajectory']['total_bytes'])} |")
    if results.get("train_memory"):
        tm = results["train_memory"]
        out += ["", f"Memory of one {tm['workload']} training step (batch {tm['batch']}), temporaries in MiB: backpropagating through the descent "
                "stores every step", "", "| nsteps | `make_train_step` | through `energies=None` | hand-written |", "|---|---|---|---|"]
        for row in tm["rows"]:
            out.append(f"| {row['nsteps']} | " + " | ".join(_mb(row[k]["temp_size_in_bytes"]) for k in ("a", "aN", "c")) + " |")
    missed = [t["what"] for t in results["targets"] if not t["ok"]]
    out += ["", f"Targets (>= 0.9x the hand-written speed, compile time <= 2x, memory flat in nsteps): {len(results['targets']) - len(missed)} of "
            f"{len(results['targets'])} met" + (". Missed: " + "; ".join(missed) + "." if missed else ".")]
    return "\n".join(out) + "\n"


def targets_of(results):
    targets = []
    for r in results["workloads"]:
        for k, s in r["same_work"].items():
            if k not in ("a", "aN"): continue
            targets.append({"what": f"{r['workload']}: ({k}) throughput >= {TARGET_RATIO}x ({s['ref']}) ({s['vs_ref']:.2f})", "ok": s["vs_ref"] >= TARGET_RATIO})
        a, c = r["contestants"]["a"], r["contestants"][r["refs"][0]]
        if r["compile_ratio"] is None: continue
        targets.append({"what": f"{r['workload']}: (a) compile time <= {TARGET_COMPILE}x ({r['refs'][0]}) in the same run "
                                f"({a['compile_s']:.2f} s vs {c['compile_s']:.2f} s: {r['compile_ratio']:.2f}x)",
                        "ok": r["compile_ratio"] <= TARGET_COMPILE})
    for m in results["memory"]:
        targets.append({"what": f"{m['workload']}: run(1000 steps) memory <= run(10 steps) + states, besides the energies it returns", "ok": m["ok"]})
    return targets


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5, help="timed runs per contestant (at least 5; 3 with --quick)")
    p.add_argument("--workloads", default=",".join(C.ALL), help=f"comma-separated, from {','.join(C.ALL)}")
    p.add_argument("--out", default=str(HERE / "results"), help="folder for the JSON results")
    p.add_argument("--ablation", action="store_true", help="also time (a0): HAM.run(fast=False), without the layout rewrite")
    p.add_argument("--quick", action="store_true", help="smoke run: small batches, 10 steps, 3 repeats, no compile times, no memory, no targets")
    p.add_argument("--no-memory", action="store_true", help="skip the memory analysis")
    args = p.parse_args(argv)
    repeats = 3 if args.quick and args.repeats == 5 else args.repeats
    if repeats < (3 if args.quick else 5): p.error(f"--repeats must be at least 5 (3 with --quick), got {args.repeats}")
    names = args.workloads.split(",")
    unknown = [n for n in names if n not in C.ALL]
    if unknown: p.error(f"unknown workload {unknown[0]!r}; choose from {C.ALL}")
    t0 = time.time()
    started = datetime.datetime.now().astimezone()
    load0 = os.getloadavg()
    print(f"hamux {hamux.__version__}, jax {jax.__version__}, {jax.devices()[0].platform} x{jax.device_count()}, "
          f"{os.cpu_count()} cores; load average {load0[0]:.2f}; {started:%Y-%m-%d %H:%M %Z}", flush=True)
    results = {"date": started.isoformat(timespec="seconds"), "command": " ".join([Path(sys.executable).name] + sys.argv),
               "machine": {"platform": platform.platform(), "processor": _cpu_name(), "cores": os.cpu_count(),
                           "jax": jax.__version__, "backend": jax.devices()[0].platform, "devices": jax.device_count(),
                           "load_average_start": load0},
               "repeats": repeats, "quick": args.quick, "workloads": [], "memory": [], "train_memory": None}
    memory = not (args.quick or args.no_memory)
    for name in [n for n in C.ALL if n in names]:
        print(f"{name}: checking, compiling, timing ...", flush=True)
        case, checked, _ = C.build(name, args.ablation, args.quick)
        results["workloads"].append(bench_case(case, checked, repeats, 0 if args.quick else 3))
        if memory and case.kind == "descent": results["memory"].append(C.descent_memory(case))
        if memory and name == "T1":
            print("T1: training memory for nsteps 10, 100, 1000 ...", flush=True)
            results["train_memory"] = C.t1_memory()
        del case, checked
    results["machine"]["load_average_end"] = os.getloadavg()
    results["targets"] = targets_of(results)
    results["wall_s"] = time.time() - t0
    print_tables(results)
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{started:%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    text = json.dumps(results, indent=1)
    path.write_text(text)
    if not args.quick:
        (out / "latest.json").write_text(text)
        (out / "README_speed.md").write_text(speed_markdown(results))
    print(f"\nwrote {path}{'' if args.quick else ' (and latest.json, README_speed.md)'}; {results['wall_s']:.0f} s in all; "
          f"load average at the end {results['machine']['load_average_end'][0]:.2f}")
    return 0 if args.quick or all(t["ok"] for t in results["targets"]) else 1


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
