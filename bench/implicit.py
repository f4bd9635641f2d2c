"""Memory and time of one training step, unrolled against implicit gradients: `.venv/bin/python bench/implicit.py`.

Workload: the W1-sized dense classifier, `image_label_ham(784, 10, nhid=1024)` (784 clamped image pixels and 10
softmax labels joined through 1,024 ReLU hidden units: the sizes of bench/workloads.py's W1 and T1), batch 64,
weights from `init_params(0)`, images uniform in [0, 1) and labels from fixed seeds, adam(1e-3), dt 0.5.

Contestants, for nsteps in 10, 100, 1000 (each one `make_train_step` step: loss, gradient, adam update, one `jit`):
  unrolled   `classification_loss(nsteps)`: `jax.grad` through every Euler step of `HAM.run`
  implicit   `implicit_classification_loss` forced to exactly nsteps forward steps and nsteps backward products
             (tol and solve_tol 1e-30, so neither loop stops early): the same work, like for like
and, once, as one would train:
  converged  `implicit_classification_loss(max_steps=1000)` with tol 1e-4 and solve_tol 1e-5: each loop stops when
             every sample has converged (the mean number of forward steps is printed)
Memory is XLA's compiled memory analysis of the jitted step (temporaries, and the total with arguments and outputs);
time is the median of `--repeats` runs after one warm-up run, the contestants taking turns. Before timing, the
implicit gradient (converged) is compared with the unrolled one at 1,000 steps. Prints a table; writes JSON to
bench/results/ (git-ignored).
"""
import argparse, datetime, json, platform, statistics, time
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

from hamux.implicit import implicit_classification_loss
from hamux.training import classification_loss, image_label_ham, make_train_step

HERE = Path(__file__).resolve().parent
PIXELS, CLASSES, NHID, DT, LR = 784, 10, 1024, 0.5, 1e-3


def data(batch):
    "Images uniform in [0, 1) and integer labels, from fixed seeds"
    kx, ky = jax.random.split(jax.random.PRNGKey(1))
    return jax.random.uniform(kx, (batch, PIXELS), jnp.float32), jax.random.randint(ky, (batch,), 0, CLASSES)


def losses(n):
    "The contestants' loss functions for `n` steps"
    return {"unrolled": classification_loss(n, DT),
            "implicit": implicit_classification_loss(n, DT, tol=1e-30, solve_tol=1e-30, solve_max_steps=n, on_fail="ignore")}

CONVERGED = implicit_classification_loss(1000, DT, tol=1e-4, solve_tol=1e-5)


def memory(compiled):
    "Bytes from XLA's memory analysis: temporaries, and arguments + outputs + temporaries - aliased"
    m = compiled.memory_analysis()
    d = {k: int(getattr(m, k)) for k in ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes", "alias_size_in_bytes")}
    d["total_bytes"] = d["argument_size_in_bytes"] + d["output_size_in_bytes"] + d["temp_size_in_bytes"] - d["alias_size_in_bytes"]
    return d


def rel(a, b):
    "Relative distance of two pytrees of arrays, as one flat vector each"
    a, b = (jnp.concatenate([jnp.ravel(l) for l in jax.tree_util.tree_leaves(t)]) for t in (a, b))
    return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))


def check_gradients(ham, x, y, n=1000):
    "Relative distance between the implicit (converged) and the unrolled gradient of the loss, at `n` steps"
    ls = {"unrolled": losses(n)["unrolled"], "converged": CONVERGED}
    grad = {k: jax.jit(jax.grad(lambda h, k=k: ls[k](h, x, y)[0]))(ham) for k in ls}
    return rel(grad["converged"].parameters(), grad["unrolled"].parameters())


def bench(nsteps_list, batch, repeats):
    ham = image_label_ham(PIXELS, CLASSES, nhid=NHID).init_params(0)
    x, y = data(batch)
    opt = optax.adam(LR)
    opt_state = opt.init(ham.parameters())
    print("checking: implicit against unrolled gradient at 1000 steps ...", flush=True)
    agreement = check_gradients(ham, x, y)
    print(f"  relative distance {agreement:.2e}", flush=True)
    rows = []
    for n in [*nsteps_list, None]:  # None: the converged contestant, once
        row = {"nsteps": n}
        row.update(measure(losses(n) if n else {"converged": CONVERGED}, opt, ham, opt_state, x, y, repeats))
        rows.append(row)
        print(table([row]), flush=True)
    return {"agreement_at_1000": agreement, "rows": rows}


def measure(loss_fns, opt, ham, opt_state, x, y, repeats):
    "`{name: {compile_s, memory, times_s, median_s, metrics}}` of the train step of each loss function, timed in turns"
    out, steps = {}, {}
    for k, lf in loss_fns.items():
        t0 = time.perf_counter()
        steps[k] = make_train_step(lf, opt).lower(ham, opt_state, x, y).compile()
        out[k] = {"compile_s": time.perf_counter() - t0, "memory": memory(steps[k]), "times_s": []}
        res = jax.block_until_ready(steps[k](ham, opt_state, x, y))  # warm-up
        out[k]["metrics"] = {m: float(v) for m, v in res[3].items()}
    keys = list(steps)
    for r in range(repeats):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t0 = time.perf_counter(); jax.block_until_ready(steps[k](ham, opt_state, x, y)); out[k]["times_s"].append(time.perf_counter() - t0)
    for k in keys: out[k]["median_s"] = statistics.median(out[k]["times_s"])
    return out


def _mb(b): return f"{b / 2**20:.1f}"


def table(rows, header=False):
    "Markdown rows: memory (temporaries / total, MiB) and median time of a step, per contestant"
    out = ["| gradient | steps | temp MiB | total MiB | step time s | compile s |", "|---|---|---|---|---|---|"] if header else []
    for r in rows:
        for k, c in r.items():
            if k == "nsteps": continue
            steps = r["nsteps"] if r["nsteps"] else f"{c['metrics']['nsteps']:.1f} (mean, until converged)"
            out.append(f"| {k} | {steps} | {_mb(c['memory']['temp_size_in_bytes'])} | {_mb(c['memory']['total_bytes'])} | "
                       f"{c['median_s']:.3f} | {c['compile_s']:.1f} |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nsteps", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=HERE / "results")
    args = p.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform} ({platform.processor() or platform.machine()}); "
          f"image_label_ham({PIXELS}, {CLASSES}, nhid={NHID}), batch {args.batch}, dt {DT}", flush=True)
    res = bench(args.nsteps, args.batch, args.repeats)
    res.update({"date": datetime.datetime.now().isoformat(timespec="seconds"), "jax": jax.__version__,
                "platform": jax.devices()[0].platform, "batch": args.batch, "repeats": args.repeats})
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"implicit-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(res, indent=1))
    print(f"\n{table(res['rows'], header=True)}\n\nimplicit against unrolled gradient at 1000 steps: relative distance {res['agreement_at_1000']:.2e}\nwrote {path}")


if __name__ == "__main__":
    main()
