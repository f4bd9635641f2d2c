"""The benchmark's workloads, each defined once and shared by every contestant.

A workload is a list of layers (size and activation) and a list of synapses, with a batch size, a number
of Euler steps and a step size. `make_data` draws, from fixed seeds, the weights (normal, std 0.02) and the
initial states (standard normal) that every contestant starts from.
"""
from dataclasses import dataclass

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
