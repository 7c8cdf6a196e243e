"""Find a source's sandbox the way its connector is found (:mod:`datasource.registry`).

A source has a sandbox when its package has a ``sandbox`` module (``sandbox.py`` or a
``sandbox`` package); that module defines one :class:`SandboxServer` subclass (built from the
kit in ``sources/toolkit/sandbox``). ``get_sandbox(name)`` returns it; ``sandbox_names()``
lists the sources that have one, built in or plugins.
"""

from __future__ import annotations

import importlib
import inspect

from datasource.registry import SourcePackage, source_packages
from sources.toolkit.sandbox import Fault, Request, Response, SandboxServer, route


def _has_sandbox(package: SourcePackage) -> bool:
    return (package.directory / "sandbox.py").is_file() or (package.directory / "sandbox" / "__init__.py").is_file()


def sandbox_names() -> list[str]:
    return [name for name, package in source_packages().items() if _has_sandbox(package)]


def get_sandbox(name: str) -> type[SandboxServer]:
    package = source_packages().get(name)
    if package is None or not _has_sandbox(package):
        where = f"{package.directory}/sandbox.py" if package else f"sources/{name}/sandbox.py, or a plugin's package"
        raise ValueError(f"No sandbox for source {name!r} (expected {where}). Sandboxes: {', '.join(sandbox_names())}")
    module = importlib.import_module(f"{package.module}.sandbox")
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, SandboxServer) and obj is not SandboxServer
             and obj.__module__.startswith(module.__name__) and not inspect.isabstract(obj)]
    if len(found) != 1:
        raise ValueError(f"{module.__name__} must define exactly one SandboxServer subclass, "
                         f"found {[c.__name__ for c in found]}")
    return found[0]


__all__ = ["Fault", "Request", "Response", "SandboxServer", "get_sandbox", "route", "sandbox_names"]
