"""hamux.sharding on two devices: the batch of states split across two CPU devices gives the single-device results.

JAX reads `XLA_FLAGS=--xla_force_host_platform_device_count=2` once, when it creates its CPU backend, and jax may
already be initialized in this process, so the checks run in a fresh Python process with the flag set. The child
prints its measurements as JSON; the tests below assert on them.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent('''
    import json
    import jax, jax.numpy as jnp, numpy as np, optax
    from jax.sharding import NamedSharding, PartitionSpec as P
    from hamux.ham import HAM, _run
    from hamux.layers import TanhLayer, ReluLayer, SoftmaxLayer
    from hamux.synapses import DenseSynapse, DenseMatrixSynapseWithHiddenLayer
    from hamux.sharding import batch_mesh, shard_batch, replicate, replicated

    out = {"devices": [str(d) for d in jax.devices()]}
    def maxdiff(a, b): return max(float(jnp.max(jnp.abs(jnp.asarray(u) - jnp.asarray(v)))) for u, v in
                                  zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))
    def placement(x):
        "spec, number of devices, shapes of the pieces"
        return {"spec": str(x.sharding.spec), "ndevices": len(x.sharding.device_set),
                "replicated": bool(x.sharding.is_fully_replicated),
                "shards": sorted({tuple(s.data.shape) for s in x.addressable_shards})}
    COLLECTIVES = ("all-reduce", "all-gather", "collective-permute", "all-to-all", "reduce-scatter")
    def collectives(compiled): return {c: compiled.as_text().count(c + "(") for c in COLLECTIVES}

    ham = HAM([TanhLayer((12,), use_bias=True), ReluLayer((8,)), SoftmaxLayer((4,))],
              [DenseSynapse(), DenseMatrixSynapseWithHiddenLayer(6)], [((0, 1), 0), ((1, 2), 1)])
    xs, ham = ham.init_states_and_params(param_key=0, bs=8, state_key=1)
    mesh = batch_mesh()
    xs_s, ham_r = shard_batch(xs, mesh), replicate(ham, mesh)
    out["input_states"] = [placement(x) for x in xs_s]
    out["input_params"] = [placement(p) for p in jax.tree_util.tree_leaves(ham_r)]

    # the fused descent: unsharded on one device, then sharded on two
    res, res_s = ham.run(xs, nsteps=30, dt=0.1), ham_r.run(xs_s, nsteps=30, dt=0.1)
    out["run_single_device"] = [len(x.sharding.device_set) for x in res.xs]
    out["run_diff_states"], out["run_diff_energies"] = maxdiff(res.xs, res_s.xs), maxdiff(res.energies, res_s.energies)
    out["run_states"] = [placement(x) for x in res_s.xs]
    out["run_energies"] = placement(res_s.energies)
    out["run_collectives"] = collectives(_run.lower(ham_r, xs_s, [None] * 3, jnp.float32(0.1), nsteps=30, batched=True,
                                                    keep=False).compile())
    conv, conv_s = ham.run_until_converged(xs, tol=1e-4), ham_r.run_until_converged(xs_s, tol=1e-4)
    out["until_diff"] = maxdiff(conv.xs, conv_s.xs)
    out["until_nsteps"] = [int(conv.nsteps), int(conv_s.nsteps)]
    out["until_states"] = [placement(x) for x in conv_s.xs]

    # a training step: loss on the states after run, grad w.r.t. the HAM's parameters, an optax update
    opt = optax.adam(1e-2)
    def loss_fn(params, xs, targets):
        return jnp.mean((ham.merge(params).run(xs, nsteps=10, dt=0.1).xs[-1] - targets) ** 2)
    def train_step(params, opt_state, xs, targets):
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, targets)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    targets = jax.nn.one_hot(jnp.arange(8) % 4, 4)
    params = ham.parameters()
    p1, _, l1 = jax.jit(train_step)(params, opt.init(params), xs, targets)
    step_m = jax.jit(train_step, out_shardings=replicated(mesh))
    args = (replicate(params, mesh), replicate(opt.init(params), mesh), xs_s, shard_batch(targets, mesh))
    p2, s2, l2 = step_m(*args)
    out["train_loss"], out["train_diff_params"] = [float(l1), float(l2)], maxdiff(p1, p2)
    out["train_params"] = [placement(p) for p in jax.tree_util.tree_leaves((p2, s2))]
    out["train_collectives"] = collectives(step_m.lower(*args).compile())
    out["train_grad_norm"] = float(sum(jnp.sum((a - b) ** 2) for a, b in
                                       zip(jax.tree_util.tree_leaves(p1), jax.tree_util.tree_leaves(params))))

    try: shard_batch([jnp.zeros((7, 12))], mesh); out["odd_batch_error"] = None
    except ValueError as e: out["odd_batch_error"] = str(e)
    print("RESULT " + json.dumps(out))
''')


@pytest.fixture(scope="module")
def two_devices():
    "Run CHILD with two CPU devices; return its measurements"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    assert p.returncode == 0 and lines, f"the two-device run failed (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def test_two_devices(two_devices):
    assert len(two_devices["devices"]) == 2, two_devices["devices"]


def test_inputs_placed(two_devices):
    for pl, n in zip(two_devices["input_states"], (12, 8, 4)):
        assert pl["spec"] == "PartitionSpec('batch',)" and pl["ndevices"] == 2 and pl["shards"] == [[4, n]], pl
    assert all(p["replicated"] and p["ndevices"] == 2 for p in two_devices["input_params"]), two_devices["input_params"]


def test_run_equals_single_device(two_devices):
    assert two_devices["run_single_device"] == [1, 1, 1]  # the reference run really ran on one device
    assert two_devices["run_diff_states"] < 1e-5 and two_devices["run_diff_energies"] < 1e-4, two_devices


def test_run_outputs_sharded(two_devices):
    for pl, n in zip(two_devices["run_states"], (12, 8, 4)):
        assert pl["spec"] == "PartitionSpec('batch',)" and pl["ndevices"] == 2 and pl["shards"] == [[4, n]], pl
    e = two_devices["run_energies"]
    assert e["spec"] == "PartitionSpec(None, 'batch')" and e["ndevices"] == 2 and e["shards"] == [[31, 4]], e


def test_run_needs_no_communication(two_devices):
    assert not any(two_devices["run_collectives"].values()), two_devices["run_collectives"]


def test_run_until_converged_sharded(two_devices):
    assert two_devices["until_diff"] < 1e-5 and len(set(two_devices["until_nsteps"])) == 1, two_devices
    assert all(pl["spec"] == "PartitionSpec('batch',)" and pl["ndevices"] == 2 for pl in two_devices["until_states"])


def test_train_step_equals_single_device(two_devices):
    l1, l2 = two_devices["train_loss"]
    assert abs(l1 - l2) < 1e-6 and two_devices["train_diff_params"] < 1e-6, two_devices
    assert two_devices["train_grad_norm"] > 0  # the step did move the parameters
    assert all(p["replicated"] and p["ndevices"] == 2 for p in two_devices["train_params"]), two_devices["train_params"]
    assert two_devices["train_collectives"]["all-reduce"] >= 1, two_devices["train_collectives"]  # the gradient sum


def test_odd_batch_refused(two_devices):
    err = two_devices["odd_batch_error"]
    assert err and "batch size 7 does not split evenly over the 2 devices" in err, err
