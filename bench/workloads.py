"""The benchmark's workloads, each defined once and shared by every contestant.

A workload is a list of layers (size and activation) and a list of synapses, with a batch size, a number
of Euler steps and a step size. `make_data` draws, from fixed seeds, the weights (normal, std 0.02) and the
initial states (standard normal) that every contestant starts from.
"""
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp


@dataclass(frozen=True)
class Workload:
    name: str        # short name: the key in the results
    title: str       # one line for the table
    layers: tuple    # ((size, kind), ...), kind in "identity", "tanh", "relu", "softmax"
    synapses: tuple  # ("dense", i, j): W of shape (size_i, size_j);  ("hidden", i, nhid): W of shape (nhid, size_i)
    batch: int = 256
    nsteps: int = 100
    dt: float = 0.1
    tau: float = 1.0

    def matmuls(self):
        "The (m, k, n) shapes of the matrix products of one descent step: one forward and one backward per weight"
        out = []
        for s in self.synapses:
            if s[0] == "dense": a, b = self.layers[s[1]][0], self.layers[s[2]][0]
            else: a, b = self.layers[s[1]][0], s[2]
            out += [(self.batch, a, b), (self.batch, b, a)]
        return out

    def quick(self):
        "The same workload, small: batch 64, 10 steps (for a smoke run)"
        return replace(self, batch=64, nsteps=10)

    def flops_per_step(self):
        "Floating-point operations of the matrix products of one step (2 m k n each)"
        return sum(2 * m * k * n for m, k, n in self.matmuls())


WORKLOADS = (
    Workload("W1", "dense2: 784 identity + 1024 softmax, one dense synapse",
             layers=((784, "identity"), (1024, "softmax")), synapses=(("dense", 0, 1),)),
    Workload("W2", "dense3: 784 tanh + 512 relu + 10 softmax, dense 0-1 and 1-2",
             layers=((784, "tanh"), (512, "relu"), (10, "softmax")), synapses=(("dense", 0, 1), ("dense", 1, 2))),
    Workload("W3", "hidden: 784 tanh through 2048 hidden softmax units (dense associative memory)",
             layers=((784, "tanh"),), synapses=(("hidden", 0, 2048),)),
)


def make_data(w: Workload, seed: int = 0):
    "(weights, states): one float32 array per synapse (normal, std 0.02) and one (batch, size) state per layer (standard normal)"
    kw, kx = jax.random.split(jax.random.PRNGKey(seed))
    wkeys = jax.random.split(kw, len(w.synapses))
    weights = []
    for k, s in zip(wkeys, w.synapses):
        shape = (w.layers[s[1]][0], w.layers[s[2]][0]) if s[0] == "dense" else (s[2], w.layers[s[1]][0])
        weights.append(0.02 * jax.random.normal(k, shape, jnp.float32))
    xkeys = jax.random.split(kx, len(w.layers))
    states = [jax.random.normal(k, (w.batch, n), jnp.float32) for k, (n, _) in zip(xkeys, w.layers)]
    return weights, states


def make_states(shapes, batch, seed=0):
    "One (batch, *shape) standard-normal initial state per layer, from a fixed seed"
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), len(shapes))
    return [jax.random.normal(k, (batch, *s), jnp.float32) for k, s in zip(keys, shapes)]


# W4: the registry's conv_ham_avgpool_mnist, whose weights are its own init_params(0); every layer starts standard normal
CONV_W4 = {
    "title": "conv: registry conv_ham_avgpool_mnist, 28x28x1 -> 7x7x64 -> 2x2x128 -> 10 (pooled convs, hidden layer of 1000)",
    "batch": 64, "nsteps": 100, "dt": 0.1, "kinds": ["tanh", "tanh", "tanh", "softmax"],
    # per conv synapse: input image, kernel, strides, padding, the conv's output (before the 2x2 average pooling)
    "convs": [{"in": (28, 28, 1), "kernel": (4, 4, 1, 64), "strides": (2, 2), "padding": ((2, 2), (2, 2)), "conv_out": (15, 15, 64), "pool": (2, 2)},
              {"in": (7, 7, 64), "kernel": (3, 3, 64, 128), "strides": (1, 1), "padding": ((0, 0), (0, 0)), "conv_out": (5, 5, 128), "pool": (2, 2)}],
    "hidden_products": [(512, 1000), (10, 1000), (1000, 512), (1000, 10)],  # (k, n) of the hidden layer's products, m = batch
}

# W5: one Energy Transformer block: 49 layer-normed tokens, self-attention without self-scores, per-token ReLU hidden layer
ET_W5 = {
    "title": "ET block: 49 tokens x 64 (layer norm), self-attention 4 heads x 16 (no self-scores), per-token hidden layer of 256",
    "batch": 64, "nsteps": 100, "dt": 0.1, "tokens": 49, "dim": 64, "heads": 4, "zdim": 16, "nhid": 256,
}

# T1, T4: one training step, loss and gradient through 10 descent steps, then adam
TRAIN_T1 = {
    "title": "train: classifier 784 identity (clamped) + 10 softmax through 1024 ReLU hidden units (image_label_ham), 10 steps",
    "batch": 256, "nsteps": 10, "dt": 0.5, "lr": 1e-3, "pixels": 784, "nhid": 1024,
    "products": [(784, 1024), (10, 1024), (1024, 784), (1024, 10)],
}
TRAIN_T4 = {
    "title": "train: the W4 conv HAM (28x28x1 image clamped), 10 steps",
    "batch": 64, "nsteps": 10, "dt": 0.3, "lr": 1e-3,
}


def conv_products(spec, batch):
    "FLOPs of the products of one descent step of the conv HAM: each conv and its transpose, 2 Ho Wo kh kw C F each, and the hidden layer's"
    conv = sum(2 * 2 * batch * s["conv_out"][0] * s["conv_out"][1] * s["kernel"][0] * s["kernel"][1] * s["kernel"][2] * s["kernel"][3]
               for s in spec["convs"])
    return conv + sum(2 * batch * k * n for k, n in spec["hidden_products"])


def et_products(spec, batch):
    "The `(b, m, k, n)` products of one descent step of the ET block (b None: a plain (m, k) @ (k, n)), forward and backward"
    B, N, D, H, Z, nhid = batch, spec["tokens"], spec["dim"], spec["heads"], spec["zdim"], spec["nhid"]
    return [(None, B * N, D, H * Z), (None, B * N, D, H * Z),      # queries and keys
            (B * H, N, Z, N),                                       # scores
            (B * H, N, N, Z), (B * H, N, N, Z),                     # their gradients with respect to the queries and the keys
            (None, B * N, H * Z, D), (None, B * N, H * Z, D),       # ... and back to the tokens
            (None, B * N, D, nhid), (None, B * N, nhid, D)]         # the hidden layer, forward and back
