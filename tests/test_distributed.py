"""Training across processes: two CPU processes joined by jax.distributed on 127.0.0.1 give the parameters of one.

Each process runs tests/distributed_child.py; they meet at a coordinator on a free local port, and gloo carries the
all-reduce of the gradients between them. The run must end by itself: every process has a timeout.
"""
import json, os, socket, subprocess, sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).with_name("distributed_child.py")
TIMEOUT = 300  # seconds for a whole run, start-up and compilation included


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(n, out):
    "Start n processes of CHILD and wait for them; return their RESULT dicts"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    address = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([sys.executable, str(CHILD), address, str(n), str(i), str(out)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(n)]
    results = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=TIMEOUT)
            lines = [l for l in stdout.splitlines() if l.startswith("RESULT ")]
            assert p.returncode == 0 and lines, f"a process failed (exit {p.returncode}):\n{stdout[-2000:]}\n{stderr[-3000:]}"
            results.append(json.loads(lines[-1][len("RESULT "):]))
    finally:
        for p in procs:
            if p.poll() is None: p.kill()
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distributed")
    one, two = _run(1, tmp / "one.npz"), _run(2, tmp / "two.npz")
    load = lambda f: [v for _, v in sorted(np.load(f).items(), key=lambda kv: int(kv[0].split("_")[1]))]
    return one, two, load(tmp / "one.npz"), load(tmp / "two.npz")


def test_two_processes_joined(runs):
    _, two, _, _ = runs
    assert [r["process"] for r in two] == [0, 1]
    assert all(r["processes"] == 2 and r["devices"] == 2 and r["local_devices"] == 1 for r in two), two


def test_same_parameters_as_one_process(runs):
    one, two, p1, p2 = runs
    assert len(p1) == len(p2) > 0
    for a, b in zip(p1, p2):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_same_losses_as_one_process(runs):
    one, two, _, _ = runs
    for r in two:  # both processes saw the loss of the whole batch, the same as the one-process run
        for h1, h2 in zip(one[0]["history"], r["history"]):
            assert abs(h1["train_loss"] - h2["train_loss"]) < 1e-4 * (1 + abs(h1["train_loss"])), (h1, h2)


def test_training_moved_the_parameters(runs):
    one, _, p1, _ = runs
    assert one[0]["history"][-1]["train_loss"] < one[0]["history"][0]["train_loss"]
