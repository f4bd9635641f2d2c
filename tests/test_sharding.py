"""hamux.sharding on two devices: the batch of states split across two CPU devices gives the single-device results.

JAX reads `XLA_FLAGS=--xla_force_host_platform_device_count=2` once, when it creates its CPU backend, and jax may
already be initialized in this process, so the checks run in a fresh Python process with the flag set,
`tests/sharding_child.py`, which prints its measurements as JSON; the tests below assert on them.
"""
import json, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = Path(__file__).with_name("sharding_child.py")  # the program run with two devices


@pytest.fixture(scope="module")
def two_devices():
    "Run CHILD with two CPU devices; return its measurements"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, str(CHILD)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
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
    assert two_devices["until_diff"] < 1e-5 and two_devices["until_nsteps"][0] == two_devices["until_nsteps"][1], two_devices
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
