"""overparam: the tested torch kernels behind *Why Big Networks Generalize*.

Each module is one concept; chapters import the package as ``op`` and call, e.g.,
``op.linear.min_norm``, ``op.data.mnist1d``, ``op.train.train``. Submodules load on
first use (``op.risk`` imports ``overparam.risk``), so importing the package is cheap.
"""

import importlib

__version__ = "0.1.0"


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        module = importlib.import_module(f"overparam.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"overparam.{name}":
            raise AttributeError(f"module 'overparam' has no submodule {name!r}") from None
        raise
    globals()[name] = module
    return module
