"""Sandbox servers: real HTTP servers on 127.0.0.1 that speak each source's API.

A source's sandbox is found the way its connector is, by convention: the module (or
package) ``harness.sandboxes.<source>`` defines one :class:`SandboxServer` subclass.
``get_sandbox(name)`` returns it; ``sandbox_names()`` lists the sources that have one.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from harness.sandboxes.server import Fault, Request, Response, SandboxServer, route

#: Modules of this package that are the kit, not a source's sandbox.
_KIT = {"server", "truth", "silent"}


def sandbox_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _KIT)


def get_sandbox(name: str) -> type[SandboxServer]:
    if name not in sandbox_names():
        raise ValueError(f"No sandbox for source {name!r}. Sandboxes: {', '.join(sandbox_names())}")
    module = importlib.import_module(f"{__name__}.{name}")
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, SandboxServer) and obj is not SandboxServer
             and obj.__module__.startswith(module.__name__)]
    if len(found) != 1:
        raise ValueError(f"harness.sandboxes.{name} must define exactly one SandboxServer subclass, "
                         f"found {[c.__name__ for c in found]}")
    return found[0]


__all__ = ["Fault", "Request", "Response", "SandboxServer", "get_sandbox", "route", "sandbox_names"]
