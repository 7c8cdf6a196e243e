"""Find a source's sandbox the way its connector is found, by convention.

A source ``<name>`` has a sandbox when ``sources/<name>/sandbox.py`` (or a ``sandbox``
package) exists; that module defines one :class:`SandboxServer` subclass (built from the kit
in ``sources/toolkit/sandbox``). ``get_sandbox(name)`` returns it; ``sandbox_names()`` lists
the sources that have one.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import sources
from datasource.registry import available_sources
from sources.toolkit.sandbox import Fault, Request, Response, SandboxServer, route


def _has_sandbox(name: str) -> bool:
    return any((Path(root) / name / "sandbox.py").is_file() or (Path(root) / name / "sandbox" / "__init__.py").is_file()
               for root in sources.__path__)


def sandbox_names() -> list[str]:
    return [name for name in available_sources() if _has_sandbox(name)]


def get_sandbox(name: str) -> type[SandboxServer]:
    if name not in sandbox_names():
        raise ValueError(f"No sandbox for source {name!r} (expected sources/{name}/sandbox.py). "
                         f"Sandboxes: {', '.join(sandbox_names())}")
    module = importlib.import_module(f"sources.{name}.sandbox")
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, SandboxServer) and obj is not SandboxServer
             and obj.__module__.startswith(module.__name__) and not inspect.isabstract(obj)]
    if len(found) != 1:
        raise ValueError(f"sources.{name}.sandbox must define exactly one SandboxServer subclass, "
                         f"found {[c.__name__ for c in found]}")
    return found[0]


__all__ = ["Fault", "Request", "Response", "SandboxServer", "get_sandbox", "route", "sandbox_names"]
