"""One process of the training runs of tests/test_distributed.py.

usage: python tests/distributed_child.py ADDRESS NUM_PROCESSES PROCESS_ID OUT.npz

With NUM_PROCESSES > 1 it joins the job at ADDRESS (`hamux.sharding.init_distributed`) and trains on a mesh of every
process's devices (`fit(..., mesh=batch_mesh())`); with 1 it trains in this process alone, without a mesh. Every
process loads the same digits and shuffles them with the same seed; process 0 writes the trained parameters to
OUT.npz and prints one line `RESULT {json}`.
"""
import json
import sys
import time

address, n, i, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

from hamux.sharding import batch_mesh, init_distributed  # noqa: E402

if n > 1: init_distributed(address, n, i, timeout=120)

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from hamux.data import load_digits_splits  # noqa: E402
from hamux.training import classification_loss, fit, image_label_ham  # noqa: E402

t0 = time.time()
d = load_digits_splits()
x, y = d.x_train[:256], d.y_train[:256]
res = fit(image_label_ham(nhid=32).init_params(0), classification_loss(5, 0.5), (x, y), epochs=2, batch_size=32,
          optimizer=optax.adam(1e-2), seed=0, progress=False, verbose=False, mesh=batch_mesh() if n > 1 else None)
leaves = jax.tree_util.tree_leaves(res.ham.parameters())
local = [np.asarray(a.addressable_data(0)) for a in leaves]  # replicated: this process's copy is the whole value
if i == 0: np.savez(out, *local)
print("RESULT " + json.dumps(dict(process=i, processes=jax.process_count(), devices=len(jax.devices()),
                                  local_devices=len(jax.local_devices()), history=res.history,
                                  shardings=[str(a.sharding) for a in leaves[:1]], seconds=time.time() - t0)), flush=True)
if n > 1: jax.distributed.shutdown()
