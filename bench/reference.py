"""Hand-written pure-JAX references of the benchmark's math: the practical limit on this machine.

No hamux. Each activation and Lagrangian is written out, and each descent is one `lax.scan` inside one `jax.jit`,
on the whole batch at once (no `vmap`). Two kinds:

- `make_reference(w)`, the dense workloads W1-W3: the update is the analytic dE/dg, every matrix product is
  `activations @ weights` with the weights laid out (K, N) (a transposed copy is made once, outside the loop, for
  the products that need W.T).
- `make_descent(activations, alignment, ...)`, every other workload: the energy is written out (convolutions with
  `lax.conv_general_dilated` and `lax.reduce_window`, or as strided windows and one matmul; attention with `einsum`)
  and dE/dg = x - d(alignment)/dg is taken with `jax.grad` of that alignment, as one would write it by hand.

With `energies=True` a descent returns what `HAM.run` returns: the final states and the energy of every sample
before each step and after the last, so both do the same work; with `energies=False` only the final states, as
`HAM.run(..., energies=None)`. `make_train_step` wraps a descent into one optimisation step: the loss of the label
layer's final states and its gradient through the unrolled descent (`jax.value_and_grad`), then the optax update.
"""
from functools import partial

import jax
import jax.numpy as jnp
import optax


def _logcosh(x):
    ax = jnp.abs(x)
    return ax + jnp.log1p(jnp.exp(-2.0 * ax)) - jnp.log(2.0)


def _per_sample(a): return jnp.sum(a, tuple(range(1, a.ndim)))


def act_and_lagrangian(kind, x, beta=1.0, eps=1e-5):
    "(g, L) of a batch of states `(B, ...)`, L summed over each sample; softmax and layer norm act along the last axis"
    if kind == "identity": return x, 0.5 * _per_sample(x * x)
    if kind == "tanh": return jnp.tanh(x), _per_sample(_logcosh(x))
    if kind == "relu":
        r = jnp.maximum(x, 0.0)
        return r, 0.5 * _per_sample(r * r)
    if kind == "softmax":  # (1/beta) logsumexp(beta x)
        z = beta * x
        m = jax.lax.stop_gradient(jnp.max(z, -1, keepdims=True))
        e = jnp.exp(z - m)
        s = jnp.sum(e, -1, keepdims=True)
        return e / s, _per_sample(jnp.log(s) + m) / beta
    if kind == "layernorm":  # gamma 1, delta 0: L = D sigma per token
        xc = x - jnp.mean(x, -1, keepdims=True)
        sigma = jnp.sqrt(jnp.mean(xc * xc, -1, keepdims=True) + eps)
        return xc / sigma, x.shape[-1] * _per_sample(sigma)
    raise ValueError(f"reference: unknown layer kind {kind!r}")


def make_reference(w, energies=True):
    "A jitted `f(weights, states, dt) -> (final states, energies (nsteps + 1, batch) or None)` for dense workload `w`"
    kinds = [k for _, k in w.layers]

    def energy_and_dEdg(weights, weights_t, xs):
        gs, Ls = zip(*[act_and_lagrangian(k, x) for k, x in zip(kinds, xs)])
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
                p, lse = act_and_lagrangian("softmax", h)
                E = E - lse
                d[i] = d[i] - p @ W
        return E, d

    @partial(jax.jit, static_argnames="nsteps")
    def run(weights, xs, dt, nsteps=w.nsteps):
        weights_t = [W.T for W in weights]  # one copy each, made before the loop
        def step(xs):
            E, d = energy_and_dEdg(weights, weights_t, xs)
            return E, [x - (dt / w.tau) * dx for x, dx in zip(xs, d)]
        return _scan(step, xs, nsteps, energies)
    return run


def _scan(step, xs, nsteps, energies):
    "`nsteps` of `step(xs) -> (energies, new states)` in one `lax.scan`: (final states, energies before each step and after the last, or None)"
    if not energies:
        return jax.lax.scan(lambda xs, _: (step(xs)[1], None), list(xs), None, length=nsteps)[0], None
    def body(xs, _):
        E, new = step(xs)
        return new, E
    xs_final, Es = jax.lax.scan(body, list(xs), None, length=nsteps)
    return xs_final, jnp.concatenate([Es, step(xs_final)[0][None]])


def descent(activations, alignment, params, xs, dt, nsteps, tau=1.0, masks=None, energies=True):
    """Euler descent of E = sum_l (g_l . x_l - L_l(x_l)) - alignment(params, gs), on a batch (not jitted: call it inside a jit).

    `activations(params, xs) -> [(g, L) per layer]`, `alignment(params, gs) -> (B,)`. dE/dg_l = x_l - d alignment / d g_l;
    `masks` (one per layer, None or an array broadcasting against the state) multiply the updates (0 clamps)."""
    masks = masks or [None] * len(xs)
    def step(xs):
        gL = activations(params, xs)
        gs = [g for g, _ in gL]
        if energies:
            A, pull = jax.vjp(lambda gs: alignment(params, gs), gs)
            dA = pull(jnp.ones_like(A))[0]
            E = sum(_per_sample(g * x) - L for (g, L), x in zip(gL, xs)) - A
        else: E, dA = None, jax.grad(lambda gs: jnp.sum(alignment(params, gs)))(gs)
        new = [x - (dt / tau) * (x - d if m is None else m * (x - d)) for x, d, m in zip(xs, dA, masks)]
        return E, new
    return _scan(step, xs, nsteps, energies)


def make_descent(activations, alignment, nsteps, tau=1.0, energies=True):
    "A jitted `f(params, states, dt) -> (final states, energies (nsteps + 1, batch) or None)`, the `descent` of these functions"
    @jax.jit
    def run(params, xs, dt):
        return descent(activations, alignment, params, xs, dt, nsteps, tau, energies=energies)
    return run


def layer_activations(kinds):
    "`activations(params, xs)` for layers of these kinds; a softmax layer's inverse temperature is `params['beta']` where present"
    def activations(params, xs):
        return [act_and_lagrangian(k, x, params.get("beta", 1.0) if k == "softmax" else 1.0) for k, x in zip(kinds, xs)]
    return activations


# --- convolutions, two ways
def conv_lax(x, K, b, strides, padding):
    "Cross-correlation of a batch of (H, W, C) images with a (kh, kw, C, F) kernel, plus bias: XLA's convolution"
    return jax.lax.conv_general_dilated(x, K, strides, padding, dimension_numbers=("NHWC", "HWIO", "NHWC")) + b


def avg_pool_lax(y, window, strides):
    "Average pooling, VALID: XLA's reduce_window"
    return jax.lax.reduce_window(y, 0.0, jax.lax.add, (1, *window, 1), (1, *strides, 1), "VALID") / (window[0] * window[1])


def conv_windows(x, K, b, strides, padding):
    "The same cross-correlation as strided windows of the padded images and one matmul"
    kh, kw, C, F = K.shape
    (sy, sx), x = strides, jnp.pad(x, ((0, 0), *padding, (0, 0)))
    Ho, Wo = (x.shape[1] - kh) // sy + 1, (x.shape[2] - kw) // sx + 1
    P = jnp.stack([x[:, i:i + (Ho - 1) * sy + 1:sy, j:j + (Wo - 1) * sx + 1:sx, :] for i in range(kh) for j in range(kw)], axis=3)
    return P.reshape(*P.shape[:3], kh * kw * C) @ K.reshape(kh * kw * C, F) + b


def avg_pool_windows(y, window, strides):
    "Average pooling over disjoint windows (window == strides), VALID, as a reshape and a mean"
    assert tuple(window) == tuple(strides), "avg_pool_windows: disjoint windows only"
    (wy, wx), (B, H, W, C) = window, y.shape
    Ho, Wo = H // wy, W // wx
    return y[:, :Ho * wy, :Wo * wx].reshape(B, Ho, wy, Wo, wx, C).mean((2, 4))


def conv_ham_alignment(convs, conv, pool):
    """`alignment(params, gs)` of an image HAM: a pooled convolution between consecutive image layers (`convs`, one
    `(strides, padding, pool window)` each, params `K{i}`, `b{i}`), then a ReLU hidden layer of `Wh0`, `Wh1` between
    the last image layer and the labels: 1/2 |relu(g_img W0 + g_lab W1)|^2"""
    def alignment(p, gs):
        a = 0.0
        for i, (strides, padding, window) in enumerate(convs):
            a = a + _per_sample(gs[i + 1] * pool(conv(gs[i], p[f"K{i}"], p[f"b{i}"], strides, padding), window, window))
        img, lab = gs[-2], gs[-1]
        h = img.reshape(img.shape[0], -1) @ p["Wh0"] + lab @ p["Wh1"]
        r = jnp.maximum(h, 0.0)
        return a + 0.5 * jnp.sum(r * r, -1)
    return alignment


def classifier_alignment(p, gs):
    "`alignment` of a two-layer classifier (image, labels) through a ReLU hidden layer: 1/2 |relu(g_img W0 + g_lab W1)|^2"
    h = gs[0] @ p["Wh0"] + gs[1] @ p["Wh1"]
    r = jnp.maximum(h, 0.0)
    return 0.5 * jnp.sum(r * r, -1)


def et_alignment(p, gs):
    """`alignment` of an Energy Transformer block on tokens g (B, N, D): self-attention with each token's self-score left
    out, (1/beta) sum_{h,n} logsumexp_{m != n}(beta A_hnm), A = (Wq g_n) . (Wk g_m); plus per-token ReLU hidden units,
    1/2 |relu(g W)|^2"""
    g = gs[0]
    Q = jnp.einsum("hzd,bnd->bhnz", p["Wq"], g)
    K = jnp.einsum("hzd,bmd->bhmz", p["Wk"], g)
    A = jnp.einsum("bhnz,bhmz->bhnm", Q, K)
    N, beta = g.shape[1], p["beta_attn"]
    A = jnp.where(jnp.eye(N, dtype=bool), -jnp.inf, beta * A)
    attn = jnp.sum(jax.nn.logsumexp(A, -1), (1, 2)) / beta
    r = jnp.maximum(g @ p["W"], 0.0)
    return attn + 0.5 * jnp.sum(r * r, (1, 2))


def make_train_step(activations, alignment, optimizer, nsteps, dt, free_shapes, tau=1.0):
    """A jitted `step(params, opt_state, x, y) -> (params, opt_state, loss)`: the input layer clamped to `x`, every other
    layer (shapes `free_shapes`, the labels last) started at zero, `nsteps` Euler steps (no energies), softmax cross-entropy of the last layer's final states
    against `y`, its gradient through the unrolled descent, and the optax update"""
    def loss(params, x, y):
        xs = [x] + [jnp.zeros((x.shape[0], *s), x.dtype) for s in free_shapes]
        masks = [jnp.zeros(x.shape[1:], x.dtype)] + [None] * len(free_shapes)
        xs_final, _ = descent(activations, alignment, params, xs, dt, nsteps, tau, masks=masks, energies=False)
        return optax.softmax_cross_entropy_with_integer_labels(xs_final[-1], y).mean()
    @jax.jit
    def step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value
    return step
