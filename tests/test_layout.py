"""The package's layering: connectors, their sandboxes and test utilities (everything under
``sources/`` but the test folders) and the runtime (``datasource/``) never import the
harness, so a connector ships and runs without it; and the HTTP client never imports the
toolkit built on it."""

from __future__ import annotations

import ast

from harness.spark import PROJECT_ROOT


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_sources_and_runtime_never_import_the_harness():
    files = [p for folder in ("sources", "datasource") for p in (PROJECT_ROOT / folder).rglob("*.py")
             if "test" not in p.relative_to(PROJECT_ROOT).parts[:-1]]
    assert len(files) > 40
    offenders = [f"{p.relative_to(PROJECT_ROOT)} imports {name}" for p in files for name in _imports(p)
                 if name == "harness" or name.startswith("harness.")]
    assert not offenders, "\n".join(offenders)


def test_the_http_client_never_imports_the_toolkit():
    """``sources.http`` is the bottom layer (client, paginators, retries, rate limits); the
    toolkit builds on it and re-exports its paginators, never the other way round."""
    files = sorted((PROJECT_ROOT / "sources" / "http").rglob("*.py"))
    assert any(p.name == "paginators.py" for p in files)
    offenders = [f"{p.relative_to(PROJECT_ROOT)} imports {name}" for p in files for name in _imports(p)
                 if name == "sources.toolkit" or name.startswith("sources.toolkit.")]
    assert not offenders, "\n".join(offenders)


def _module_name(path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_two_modules_import_each_other():
    """Not even inside a function: a pair that does is one module split in two, or a shared
    piece that belongs in a third (``harness.targets`` ↔ ``harness.databricks.session`` was
    one; the session choice moved to ``harness.spark``, the shared error to ``harness.errors``)."""
    files = [p for folder in ("harness", "datasource", "sources") for p in (PROJECT_ROOT / folder).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    imports: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from package import submodule`` imports the submodule, not the package's body
                subs = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
                found.update(subs or {node.module})
        imports[name] = found & modules.keys()
    assert len(modules) > 60
    pairs = sorted({tuple(sorted((a, b))) for a, targets in imports.items() for b in targets
                    if b != a and a in imports.get(b, ())})
    assert not pairs, pairs
