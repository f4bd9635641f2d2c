"""One compiled program per architecture: HAMs built alike, with other weights or another `beta`, or loaded from a
checkpoint reuse the programs of `run`, `run_until_converged` and the training step (hamux.compat's treeo shims);
another shape, `nsteps`, static hyperparameter or architecture gets a program of its own, which computes its own result."""
import collections, contextlib, logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hamux.ham import HAM, _run, _run_until
from hamux.lagrangians import LSigmoid
from hamux.layers import Layer, SoftmaxLayer, TanhLayer
from hamux.synapses import DenseMatrixSynapseWithHiddenLayer, DenseSynapse
from hamux.training import classification_loss, fit, image_label_ham, make_train_step


class Compiles:
    "What jax traced and compiled inside a `with compiling() as c:` block: `c.traced['_run']`, `c.compiled['_run']`"
    def __init__(self): self.traced, self.compiled = collections.Counter(), collections.Counter()
    def of(self, name): return self.traced[name] + self.compiled[name]


@contextlib.contextmanager
def compiling():
    "Count jax's traces and XLA compilations by function name, from the log lines jax writes at DEBUG level"
    seen = Compiles()
    class Handler(logging.Handler):
        def emit(self, record):
            msg = record.getMessage()
            if msg.startswith("Finished tracing + transforming "): seen.traced[msg.split()[4]] += 1
            elif msg.startswith("Finished XLA compilation of "): seen.compiled[msg.split()[4].removeprefix("jit(").removesuffix(")")] += 1
    log, handler = logging.getLogger("jax._src.dispatch"), Handler()
    old = log.level, log.propagate
    log.addHandler(handler); log.setLevel(logging.DEBUG); log.propagate = False
    try: yield seen
    finally: log.removeHandler(handler); log.setLevel(old[0]); log.propagate = old[1]


def test_counter_counts():
    "The counter sees a compilation when there is one, and none when the program is reused"
    f = jax.jit(lambda x: x * 3 + 1)
    with compiling() as c: f(jnp.ones(3)); f(jnp.zeros(3))
    assert (c.traced["<lambda>"], c.compiled["<lambda>"]) == (1, 1)
    with compiling() as c: f(jnp.ones(3))
    assert c.of("<lambda>") == 0
    with compiling() as c: f(jnp.ones(4))
    assert c.compiled["<lambda>"] == 1


def small_ham(tau=1.0, n_visible=6, hidden_layer=TanhLayer, min_beta=1e-6, do_norm=False):
    return HAM([hidden_layer((n_visible,)), SoftmaxLayer((4,), beta=2.0, tau=tau, min_beta=min_beta)],
               [DenseMatrixSynapseWithHiddenLayer(5, do_norm=do_norm)], [((0, 1), 0)])


XS, NSTEPS = small_ham().init_states(bs=2, rng=1), 4


def descents(ham, xs=XS, nsteps=NSTEPS):
    "`run`'s final states, and `run_until_converged`'s result"
    return ham.run(xs, nsteps).xs, ham.run_until_converged(xs, max_steps=30)


def euler(ham, xs=XS, nsteps=NSTEPS, dt=0.1):
    "The states after `nsteps` Euler steps taken one by one, outside `jit` (none of `run`'s compiled programs)"
    for _ in range(nsteps): xs = ham.step(xs, ham.vupdates(xs), dt)
    return xs


def check_own(ham, got, xs=XS, nsteps=NSTEPS):
    "`run`'s states are the HAM's own descent, and `run_until_converged`'s energy is the energy of its states under the HAM's weights"
    xs_run, conv = got
    for a, b in zip(xs_run, euler(ham, xs, nsteps)): np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    if conv is not None: np.testing.assert_allclose(conv.energy, ham.venergy(conv.xs), rtol=1e-5, atol=1e-5)


def assert_differ(got, other):
    assert any(not np.allclose(a, b) for a, b in zip(got, other)), "expected a different result"


@pytest.fixture(scope="module")
def base():
    "A HAM whose descents are compiled, and their result"
    ham = small_ham().init_params(0)
    return ham, descents(ham)


def test_built_alike_share_the_descents(base):
    first, (want_first, _) = base
    sizes = _run._cache_size(), _run_until._cache_size()
    second = small_ham().init_params(1)
    with compiling() as c: got = descents(second)
    assert c.of("_run") == 0 and c.of("_run_until") == 0, (c.traced, c.compiled)
    assert (_run._cache_size(), _run_until._cache_size()) == sizes
    assert_differ(got[0], want_first)  # the second HAM's own weights were used
    check_own(second, got)


def test_new_weights_and_beta_share_the_descents(base):
    ham, (want, _) = base
    syn, changed = ham.synapses[0], ham.copy()
    changed.layers[1].lagrangian.beta = jnp.asarray(3.5, jnp.float32)  # beta is a parameter, a leaf
    changed.synapses[0] = syn.with_weights(Ws=tuple(2 * w for w in syn.Ws))
    with compiling() as c: got = descents(changed)
    assert c.of("_run") == 0 and c.of("_run_until") == 0, (c.traced, c.compiled)
    assert_differ(got[0], want)
    check_own(changed, got)


def test_loaded_checkpoint_has_the_structure_of_a_fresh_ham(base, tmp_path):
    base[0].save_state_dict(tmp_path / "h.ckpt")
    loaded = small_ham().load_ckpt(tmp_path / "h.ckpt")
    assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(small_ham().init_params(3))


def test_loaded_checkpoint_shares_the_descents(base, tmp_path):
    small_ham().init_params(1).save_state_dict(tmp_path / "h.ckpt")
    loaded = small_ham().load_ckpt(tmp_path / "h.ckpt")
    with compiling() as c: got = descents(loaded)
    check_own(loaded, got)
    assert c.of("_run") == 0 and c.of("_run_until") == 0, (c.traced, c.compiled)


@pytest.mark.parametrize("what", ["layer shape", "nsteps", "tau, a static float", "min_beta, a static float of the Lagrangian",
                                  "do_norm, a static flag of the synapse", "Lagrangian kind", "synapse kind"])
def test_another_configuration_gets_its_own_program(base, what):
    _, (want_base, _) = base
    make, nsteps = {"layer shape": (lambda: small_ham(n_visible=7), NSTEPS), "nsteps": (small_ham, NSTEPS + 1),
                    "tau, a static float": (lambda: small_ham(tau=2.0), NSTEPS),
                    "min_beta, a static float of the Lagrangian": (lambda: small_ham(min_beta=3.0), NSTEPS),  # beta_eff = max(beta, min_beta)
                    "do_norm, a static flag of the synapse": (lambda: small_ham(do_norm=True), NSTEPS),
                    "Lagrangian kind": (lambda: small_ham(hidden_layer=lambda shape: Layer(LSigmoid(), shape)), NSTEPS),
                    "synapse kind": (lambda: HAM([TanhLayer((6,)), SoftmaxLayer((4,), beta=2.0)], [DenseSynapse()], [((0, 1), 0)]), NSTEPS)}[what]
    ham = make().init_params(0)
    xs = ham.init_states(bs=2, rng=1) if what == "layer shape" else XS
    with compiling() as c: got = ham.run(xs, nsteps).xs
    assert c.compiled["_run"] >= 1, f"{what}: no new program"
    check_own(ham, (got, None), xs, nsteps)                  # its own descent...
    if what != "layer shape": assert_differ(got, want_base)  # ...not the first HAM's


def _data(n=8, seed=0):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    return jax.random.normal(k1, (n, 16)), jax.random.randint(k2, (n,), 0, 3)


def test_train_step_shared_by_hams_built_alike():
    loss, opt = classification_loss(nsteps=3), optax.adam(1e-2)
    step, (x, y) = make_train_step(loss, opt), _data(4)
    first = image_label_ham(16, 3, nhid=8).init_params(0)
    want_first = step(first, opt.init(first.parameters()), x, y)[2]
    second = image_label_ham(16, 3, nhid=8).init_params(1)
    with compiling() as c: trained, _, got, _ = step(second, opt.init(second.parameters()), x, y)
    assert c.of("step") == 0 and step._cache_size() == 1, (c.traced, c.compiled)
    assert not np.isclose(got, want_first)
    np.testing.assert_allclose(got, loss(second, x, y)[0], rtol=1e-5)  # the loss of the second HAM, computed outside the step
    xs = second.init_states(bs=2, rng=0)
    second.run(xs, 3)
    with compiling() as c: trained.run(xs, 3)  # the trained HAM runs on the program of the untrained one
    assert c.of("_run") == 0, (c.traced, c.compiled)


def test_fit_compiles_its_step_once():
    loss, train, kw = classification_loss(nsteps=3), _data(8), dict(epochs=1, batch_size=4, progress=False, verbose=False)
    fit(image_label_ham(16, 3, nhid=8).init_params(0), loss, train, **kw)
    with compiling() as c: res = fit(image_label_ham(16, 3, nhid=8).init_params(1), loss, train, **kw)
    assert c.of("step") == 0, (c.traced, c.compiled)
    with compiling() as c: fit(res.ham, loss, train, opt_state=res.opt_state, **kw)  # training on
    assert c.of("step") == 0, (c.traced, c.compiled)
    with compiling() as c: res4 = fit(image_label_ham(16, 4, nhid=8).init_params(1), loss, train, **kw)  # another label layer
    assert c.compiled["step"] >= 1
    assert res4.ham.layers[-1].shape == (4,) and np.isfinite(res4.history[0]["train_loss"])
