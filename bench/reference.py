"""Hand-written pure-JAX reference of the benchmark's math: the practical limit on this machine.

No hamux: each activation and Lagrangian is written out, the update is the analytic dE/dg, every matrix
product is `activations @ weights` with the weights laid out (K, N) (a transposed copy is made once, outside
the loop, for the products that need W.T), and the whole descent is one `lax.scan` inside one `jax.jit`.
It returns what `HAM.run` returns: the final states and the energy of every sample before each step and
after the last, so both do the same work.
"""
from functools import partial

import jax
import jax.numpy as jnp


def _logcosh(x):
    ax = jnp.abs(x)
    return ax + jnp.log1p(jnp.exp(-2.0 * ax)) - jnp.log(2.0)


def _act_and_lagrangian(kind, x):
    "(g, L) of a batch of states (L summed over each sample)"
    if kind == "identity": return x, 0.5 * jnp.sum(x * x, -1)
    if kind == "tanh": return jnp.tanh(x), jnp.sum(_logcosh(x), -1)
    if kind == "relu":
        r = jnp.maximum(x, 0.0)
        return r, 0.5 * jnp.sum(r * r, -1)
    if kind == "softmax":
        m = jax.lax.stop_gradient(jnp.max(x, -1, keepdims=True))
        e = jnp.exp(x - m)
        s = jnp.sum(e, -1, keepdims=True)
        return e / s, (jnp.log(s) + m)[..., 0]
    raise ValueError(f"reference: unknown layer kind {kind!r}")


def make_reference(w):
    "A jitted `f(weights, states, dt) -> (final states, energies (nsteps + 1, batch))` for workload `w`"
    kinds = [k for _, k in w.layers]

    def energy_and_dEdg(weights, weights_t, xs):
        gs, Ls = zip(*[_act_and_lagrangian(k, x) for k, x in zip(kinds, xs)])
        E = sum(jnp.sum(g * x, -1) - L for g, x, L in zip(gs, xs, Ls))
        d = list(xs)  # dE_layer/dg = x (no bias)
        for s, W, WT in zip(w.synapses, weights, weights_t):
            if s[0] == "dense":
                i, j = s[1], s[2]
                A = gs[i] @ W                      # (B, n_j)
                E = E - jnp.sum(A * gs[j], -1)
                d[j] = d[j] - A
                d[i] = d[i] - gs[j] @ WT           # W.T, pre-transposed
            else:
                i = s[1]
                h = gs[i] @ WT                     # (B, nhid): W g, with W (nhid, n_i) pre-transposed
                p, lse = _act_and_lagrangian("softmax", h)
                E = E - lse
                d[i] = d[i] - p @ W
        return E, d

    @partial(jax.jit, static_argnames="nsteps")
    def run(weights, xs, dt, nsteps=w.nsteps):
        weights_t = [W.T for W in weights]  # one copy each, made before the loop
        def step(xs):
            E, d = energy_and_dEdg(weights, weights_t, xs)
            return E, [x - (dt / w.tau) * dx for x, dx in zip(xs, d)]
        def body(xs, _):
            E, new = step(xs)
            return new, E
        xs_final, Es = jax.lax.scan(body, list(xs), None, length=nsteps)
        E_last, _ = step(xs_final)
        return xs_final, jnp.concatenate([Es, E_last[None]])
    return run
