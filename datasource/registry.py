"""Find a source by name: the only way the runtime and the harness reach a concrete source.

A source ``<name>`` is a Python package holding its connector, and usually its sandbox
(``sandbox.py``), docs (``<name>_api_doc.md``, ``README.md``), tests (``test/``) and
``configs/``. Sources come from two places, found the same way:

* this package: ``sources/<name>/`` with ``<name>.py`` (``interface``, ``http`` and the
  toolkit have none, so they are not sources);
* installed distributions (plugins): an entry point in the group ``lakeflow.sources`` whose
  name is the source and whose value is its package, e.g. in the plugin's ``pyproject.toml``::

      [project.entry-points."lakeflow.sources"]
      stripe = "lakeflow_stripe"

The connector is the one ``LakeflowConnect`` subclass the package exports, or that its
``<name>`` module defines. A built-in source wins over a plugin of the same name.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import sources
from sources.interface import LakeflowConnect

#: The entry point group plugins declare their sources in.
ENTRY_POINT_GROUP = "lakeflow.sources"

log = logging.getLogger("lakeflow.registry")


@dataclass(frozen=True)
class SourcePackage:
    """Where a source lives.

    Attributes:
        name: the source name (``hubspot``; the format is ``lakeflow_<name>``).
        module: its package's import name (``sources.hubspot``, ``lakeflow_stripe``).
        directory: the package's folder (its docs, ``test/`` and ``configs/``).
        distribution: the installed distribution that declared it (``None``: built in).
    """

    name: str
    module: str
    directory: Path
    distribution: str | None = None

    @property
    def tests(self) -> Path:
        return self.directory / "test"

    @property
    def project_root(self) -> Path:
        """The folder to run the source's tests from: the nearest one above the package with a
        ``pyproject.toml`` (a plugin's project, or this checkout), else the package's parent."""
        for folder in self.directory.parents:
            if (folder / "pyproject.toml").is_file():
                return folder
        return self.directory.parent


def _builtin() -> dict[str, SourcePackage]:
    found = {}
    for root in sources.__path__:
        for folder in sorted(Path(root).iterdir()):
            if folder.is_dir() and (folder / f"{folder.name}.py").is_file() and folder.name not in found:
                found[folder.name] = SourcePackage(folder.name, f"sources.{folder.name}", folder)
    return found


def _plugins() -> list[SourcePackage]:
    out = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(getattr(ep, "dist", None), "name", None)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", ep.name) or ep.attr:
            log.warning("ignoring entry point %s = %s (%s): a source entry point names a lower-case source and its "
                        "package, like `stripe = \"lakeflow_stripe\"`", ep.name, ep.value, dist)
            continue
        try:
            spec = importlib.util.find_spec(ep.module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            log.warning("ignoring source %r of %s: its package %r is not importable", ep.name, dist, ep.module)
            continue
        out.append(SourcePackage(ep.name, ep.module, Path(list(spec.submodule_search_locations)[0]), dist))
    return out


def source_packages() -> dict[str, SourcePackage]:
    """Every source by name: this package's, then installed plugins'."""
    found = _builtin()
    for plugin in _plugins():
        if plugin.name in found:
            if found[plugin.name].module != plugin.module:
                log.warning("source %r of %s is shadowed by %s", plugin.name, plugin.distribution, found[plugin.name].module)
            continue
        found[plugin.name] = plugin
    return dict(sorted(found.items()))


def available_sources() -> list[str]:
    return list(source_packages())


def source_package(source: str) -> SourcePackage:
    """The package of ``source``; a clear error naming the known sources otherwise."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", source or ""):
        raise ValueError(f"Source name {source!r} is not valid: use lower-case letters, digits and _.")
    packages = source_packages()
    if source not in packages:
        raise ValueError(f"Unknown source {source!r}. Available sources: {', '.join(packages)} (a plugin is found "
                         f"once its distribution, declaring the entry point group {ENTRY_POINT_GROUP!r}, is installed)")
    return packages[source]


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
    """The connector class of ``source`` (``"example"``, ``"hubspot"``, a plugin's name…)."""
    package = source_package(source)
    for module_name in (package.module, f"{package.module}.{source}"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        cls = _connector_in(module)
        if cls is not None:
            return cls
    raise ValueError(f"Source {source!r} defines no single LakeflowConnect subclass in {package.module}")


def source_name_of(cls: type) -> str:
    """The source name of a connector class: the source whose package holds it
    (``sources.hubspot.hubspot.HubSpotLakeflowConnect`` → ``hubspot``), otherwise the class
    name in snake case without its suffix (``MyShopLakeflowConnect`` → ``my_shop``)."""
    for package in source_packages().values():
        if cls.__module__ == package.module or cls.__module__.startswith(package.module + "."):
            return package.name
    name = re.sub(r"(LakeflowConnect|Connector|Connect|Source)$", "", cls.__name__) or cls.__name__
    return re.sub(r"[^a-z0-9_]", "", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower())
