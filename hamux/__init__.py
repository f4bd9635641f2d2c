"""hamux: Hierarchical Associative Memories in JAX.

Deep Hopfield networks in which every architecture is a dynamical system with a tractable energy
that its states descend to a fixed point. This file is written by hand; every other module in
`hamux/` is exported from the notebooks in `nbs/` by `nbdev_export`. The treex shims that make the
dependency stack work live in `hamux.compat` (nbs/99_compat.ipynb) and run on the first import.
"""
__version__ = "0.1.0"

from . import compat  # noqa: F401  (applies the treex shims before anything imports treex)
from .lagrangians import *  # noqa: E402,F401,F403
from .layers import *  # noqa: E402,F401,F403
from .synapses import *  # noqa: E402,F401,F403
from .ham import *  # noqa: E402,F401,F403
from .training import *  # noqa: E402,F401,F403
from .sharding import *  # noqa: E402,F401,F403
from .data import *  # noqa: E402,F401,F403
from .checkpoint import *  # noqa: E402,F401,F403
from .registry import *  # noqa: E402,F401,F403
from .memory import *  # noqa: E402,F401,F403
from . import checks  # noqa: E402,F401  (hamux.checks: the argument checks, used by every module)
