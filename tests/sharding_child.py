"""The two-device half of tests/test_sharding.py: run by it in a fresh process with two CPU devices.

It prints its measurements as one `RESULT {json}` line, which the tests assert on.
"""
import json
import jax, jax.numpy as jnp, optax
from jax.sharding import NamedSharding, PartitionSpec as P
from hamux.ham import HAM, _run
from hamux.layers import TanhLayer, ReluLayer, SoftmaxLayer
from hamux.synapses import DenseSynapse, DenseMatrixSynapseWithHiddenLayer
from hamux.sharding import batch_mesh, shard_batch, replicate

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
out["until_nsteps"] = [conv.nsteps.tolist(), conv_s.nsteps.tolist()]  # per sample
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
step_m = jax.jit(train_step, out_shardings=NamedSharding(mesh, P()))
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
