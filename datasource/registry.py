"""Find a connector class by source name, the only way the runtime reaches a concrete source.

A source ``<name>`` is a package ``sources.<name>`` holding ``<name>.py``; its connector is
the ``LakeflowConnect`` subclass that package exports (or that ``sources/<name>/<name>.py``
defines). Packages without such a module (``interface``, ``http``, the toolkit) are not sources.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import sources
from sources.interface import LakeflowConnect

def _is_source(name: str) -> bool:
    return any((Path(root) / name / f"{name}.py").is_file() for root in sources.__path__)


def available_sources() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(sources.__path__) if m.ispkg and _is_source(m.name))


def _connector_in(module) -> type[LakeflowConnect] | None:
    found = [
        obj for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, LakeflowConnect) and obj is not LakeflowConnect
        and not inspect.isabstract(obj)
    ]
    local = [c for c in found if c.__module__.startswith(module.__name__)]
    candidates = local or found
    return candidates[0] if len(candidates) == 1 else None


def connector_class(source: str) -> type[LakeflowConnect]:
    """The connector class of ``source`` (``"example"``, ``"hubspot"``…)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", source or ""):
        raise ValueError(f"Source name {source!r} is not valid: use lower-case letters, digits and _.")
    if source not in available_sources():
        raise ValueError(f"Unknown source {source!r}. Available sources: {', '.join(available_sources())}")
    for module_name in (f"sources.{source}", f"sources.{source}.{source}"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        cls = _connector_in(module)
        if cls is not None:
            return cls
    raise ValueError(f"Source {source!r} defines no single LakeflowConnect subclass in sources.{source}")


def source_name_of(cls: type) -> str:
    """The source name of a connector class: its package under ``sources/`` when it lives
    there (``sources.hubspot.hubspot.HubSpotLakeflowConnect`` → ``hubspot``), otherwise the
    class name in snake case without its suffix (``MyShopLakeflowConnect`` → ``my_shop``)."""
    parts = cls.__module__.split(".")
    if len(parts) >= 2 and parts[0] == "sources" and _is_source(parts[1]):
        return parts[1]
    name = re.sub(r"(LakeflowConnect|Connector|Connect|Source)$", "", cls.__name__) or cls.__name__
    return re.sub(r"[^a-z0-9_]", "", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower())
