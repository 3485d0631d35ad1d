"""Import only the parts of pyroute2 the daemon uses.

``pyroute2/__init__.py`` imports the whole library (NDB with sqlite, IPDB,
IPVS, nl80211, wireguard...) whatever a caller asks for: a third of the
daemon's start-up time and about 7 MiB of its memory, for modules it never
calls. :func:`install` registers the package without running that file, so
``import pyroute2.iproute.linux`` loads just that module and what it needs.
The first use of a name of the package itself (``from pyroute2 import
NetNS``) still runs the real ``__init__``: nothing is lost to a caller that
wants all of it, such as the tests.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any


def install() -> None:
    """Register a package object for pyroute2 whose ``__init__`` runs on first attribute use."""
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.loader is None:
        return  # not installed: the import that needs it will say so
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module hook
        if importlib.util.find_spec(f"pyroute2.{name}") is not None:
            raise AttributeError(name)  # a submodule: the import system loads just that one
        del module.__dict__["__getattr__"]
        spec.loader.exec_module(module)  # a package-level name: the whole library after all
        return getattr(module, name)

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules["pyroute2"] = module
