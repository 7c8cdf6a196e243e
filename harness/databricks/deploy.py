"""``lakeflow pipeline deploy SPEC --target databricks``: the rendered pipeline on Databricks.

:func:`deploy` renders the spec (:mod:`harness.pipeline.render`), uploads the pipeline source
file and this package's wheel into a workspace folder (workspace files API), then creates the
serverless pipeline, or edits it when one with the spec's name exists:

.. code-block:: text

    POST /api/2.0/workspace/mkdirs          {"path": "<dir>"}
    POST /api/2.0/workspace/import          <dir>/<name>_pipeline.py   (format AUTO, overwrite)
    POST /api/2.0/workspace/import          <dir>/<wheel>.whl          (format AUTO, overwrite)
    GET  /api/2.0/pipelines?filter=name LIKE '<name>'
    POST /api/2.0/pipelines                 (none with that name)  or
    PUT  /api/2.0/pipelines/<id>            (one exists: its settings are replaced)

The pipeline reads ``/Workspace<dir>/<name>_pipeline.py`` and installs the wheel through its
serverless environment (``environment.dependencies``), publishing to the spec's
``destination.catalog`` / ``destination.schema``. :func:`start_update` starts a run.

:func:`build_wheel` builds the wheel the pipeline installs. Its ``Requires-Dist`` is empty on
purpose: the pipeline code imports pyspark, pyarrow and requests, which the Databricks runtime
provides, and the project's own pins (``pyspark==…``, ``delta-spark``) would replace the
runtime's Spark. Its version carries a hash of the sources (``0.1.0+g<hash>``), so a changed
wheel gets a new file name and the pipeline's environment installs it rather than a cached one.

Every failure is a :class:`DeployError` that names the spec key, the host and permission, or
the command to fix. Nothing here prints or logs credentials.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from harness.pipeline.render import render_databricks, render_settings
from harness.pipeline.spec import PipelineSpec, TablePlan

#: The top-level packages the wheel holds (``[tool.setuptools.packages.find]`` in pyproject.toml).
PACKAGES = ("datasource", "sources", "harness")
#: What the Databricks wheel requires: nothing the runtime lacks (see the module docstring).
RUNTIME_DEPENDENCIES: tuple[str, ...] = ()
#: File types the wheel ships (Python modules and the package data of pyproject.toml).
_SHIPPED_SUFFIXES = {".py", ".md", ".json"}
#: Never shipped, even when they sit in a package folder: local credentials.
_NEVER_SHIPPED = {"dev_config.json", ".env"}
#: Folders never shipped: caches, and the sources' tests (a pipeline runs no tests).
_NEVER_SHIPPED_FOLDERS = {"__pycache__", "test", "tests"}
_WORKSPACE_FS = "/Workspace"



class DeployError(ValueError):
    """A deployment that cannot go on; the message names what to change."""


@dataclass(frozen=True)
class DeployResult:
    """What :func:`deploy` did: the pipeline, its URL, and the uploaded files."""

    pipeline_id: str
    url: str
    created: bool  #: True when the pipeline was new, False when an existing one was edited
    source_path: str  #: the pipeline source file, as the pipeline reads it (``/Workspace/…``)
    wheel_path: str  #: the wheel, as the pipeline's environment installs it (``/Workspace/…``)
    settings: dict  #: the pipeline settings sent (the Pipelines API body)


# ------------------------------------------------------------------------------ the wheel
def _shipped_files(project_root: Path) -> list[Path]:
    files = [project_root / "pyproject.toml"]
    if (project_root / "README.md").exists():
        files.append(project_root / "README.md")
    for package in PACKAGES:
        root = project_root / package
        if not (root / "__init__.py").exists():
            raise DeployError(f"cannot build the wheel: {root} is not a Python package (no __init__.py)")
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(project_root).parts
            if (path.is_file() and path.suffix in _SHIPPED_SUFFIXES and path.name not in _NEVER_SHIPPED
                    and not any(p in _NEVER_SHIPPED_FOLDERS or p.startswith(".") or p.endswith(".egg-info")
                                for p in parts[:-1])):
                files.append(path)
    return files


def _fingerprint(project_root: Path, files: list[Path], dependencies: Sequence[str]) -> str:
    digest = hashlib.sha256(repr(sorted(dependencies)).encode())
    for path in files:
        digest.update(path.relative_to(project_root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _databricks_pyproject(text: str, fingerprint: str, dependencies: Sequence[str]) -> str:
    version = re.search(r'^version\s*=\s*"([^"+]+)[^"]*"', text, re.M)
    deps = re.search(r"^dependencies\s*=\s*\[.*?^\]", text, re.M | re.S)
    if not version or not deps:
        raise DeployError("cannot build the wheel: pyproject.toml has no `version = \"…\"` or `dependencies = [...]` "
                          "line in [project] to rewrite")
    text = text[:deps.start()] + "dependencies = [" + ", ".join(f'"{d}"' for d in dependencies) + "]" + text[deps.end():]
    return re.sub(r'^version\s*=\s*"[^"]*"', f'version = "{version.group(1)}+g{fingerprint}"', text, count=1, flags=re.M)


def build_wheel(project_root: Path, out_dir: Path, *, dependencies: Sequence[str] = RUNTIME_DEPENDENCIES,
                python: str = sys.executable) -> Path:
    """Build this package's wheel for Databricks into ``out_dir`` and return its path.

    The sources are copied to a temporary folder first (the build leaves nothing in
    ``project_root``; ``dev_config.json`` files are never copied), with ``dependencies`` as the
    wheel's requirements and ``+g<hash of the sources>`` appended to the version. A wheel for
    the same sources already in ``out_dir`` is returned without building. Runs
    ``<python> -m pip wheel --no-deps -w <tmp> <staged copy>`` (pip fetches the build backend,
    setuptools, from the package index unless it is cached); a failure raises
    :class:`DeployError` with that command and the end of its output.
    """
    project_root, out_dir = Path(project_root).resolve(), Path(out_dir).resolve()
    files = _shipped_files(project_root)
    fingerprint = _fingerprint(project_root, files, dependencies)
    cached = sorted(out_dir.glob(f"*+g{fingerprint}-*.whl"))
    if cached:
        return cached[0]
    with tempfile.TemporaryDirectory(prefix="lakeflow-wheel-") as tmp:
        staged, built = Path(tmp) / "src", Path(tmp) / "dist"
        for path in files:
            target = staged / path.relative_to(project_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        pyproject = staged / "pyproject.toml"
        pyproject.write_text(_databricks_pyproject(pyproject.read_text(encoding="utf-8"), fingerprint, dependencies),
                             encoding="utf-8")
        command = [python, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-w", str(built), str(staged)]
        shown = f"{python} -m pip wheel --no-deps -w {out_dir} {project_root}"
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeployError(f"building the wheel failed: `{shown}`: {exc}") from None
        wheels = sorted(built.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise DeployError(f"building the wheel failed (exit {proc.returncode}): `{shown}` "
                              f"(run on a copy of the sources in {staged}):\n{tail}")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], out_dir / wheels[0].name))


# ------------------------------------------------------------------------------ the workspace
def default_workspace_dir(client, spec: PipelineSpec) -> str:
    """``/Users/<the caller>/lakeflow/<pipeline name>``: a folder the caller owns."""
    with _calling(client, "reading the current user (GET /api/2.0/preview/scim/v2/Me)",
                  "the token's user or service principal must be able to read its own identity"):
        user = client.current_user.me().user_name
    return f"/Users/{user}/lakeflow/{spec.name}"


def _host(client) -> str:
    return (client.config.host or "").rstrip("/")


@contextlib.contextmanager
def _calling(client, action: str, permission: str):
    """Map the SDK's errors for ``action`` to :class:`DeployError` (401/403 with the fix)."""
    from databricks.sdk.errors import DatabricksError, PermissionDenied, Unauthenticated

    host = _host(client)
    try:
        yield
    except Unauthenticated as exc:
        raise DeployError(
            f"Databricks at {host} rejected the credentials (401) while {action}: {exc}. The token is missing, "
            f"expired or for another workspace: set DATABRICKS_TOKEN to a token of {host}, or run "
            f"`databricks auth login --host {host}` and set DATABRICKS_CONFIG_PROFILE"
        ) from None
    except PermissionDenied as exc:
        raise DeployError(f"Databricks at {host} denied {action} (403): {exc}. Needed: {permission}") from None
    except DatabricksError as exc:
        raise DeployError(f"Databricks at {host}: {action} failed: {exc}") from None


def _split_workspace_dir(workspace_dir: str) -> tuple[str, str]:
    """(the workspace API path ``/Users/…``, the file path ``/Workspace/Users/…``)."""
    path = "/" + workspace_dir.strip().strip("/")
    if path == _WORKSPACE_FS or path.startswith(_WORKSPACE_FS + "/"):
        path = path[len(_WORKSPACE_FS):] or "/"
    if path in ("/", "/Users", "/Shared") or path.startswith("/Volumes/") or path.startswith("/dbfs"):
        raise DeployError(
            f"--workspace-dir {workspace_dir!r}: give a workspace folder of your own, such as "
            "/Users/<you>/lakeflow/<pipeline> or /Shared/lakeflow/<pipeline> (not a volume or DBFS path)"
        )
    return path, _WORKSPACE_FS + path


def _check_destination(spec: PipelineSpec, origin: str) -> None:
    dest = spec.destination
    if dest.path is not None:
        raise DeployError(
            f"{origin}: destination.path ({dest.path!r}) is for local runs; a Databricks pipeline publishes to "
            f"Unity Catalog: replace it with destination.catalog and destination.schema "
            f"(e.g. catalog: main, schema: {spec.name})"
        )
    if not dest.catalog:
        raise DeployError(
            f"{origin}: destination.catalog is missing: a Databricks pipeline publishes to <catalog>.<schema> in "
            f"Unity Catalog; add `catalog: <a catalog you can create tables in>` (e.g. main) next to "
            f"`schema: {dest.schema_}` under destination"
        )


def _render(spec: PipelineSpec, plans: list[TablePlan], rendered_dir: Path, origin: str) -> Path:
    try:
        paths = render_databricks(spec, plans, Path(rendered_dir), origin=origin)
    except Exception as exc:
        raise DeployError(f"rendering pipeline {spec.name!r} into {rendered_dir} failed: {exc}") from None
    source = next((p for p in paths if p.suffix == ".py"), None)
    if source is None or not source.is_file():
        raise DeployError(f"rendering pipeline {spec.name!r} wrote no source file into {rendered_dir}")
    try:
        compile(source.read_text(encoding="utf-8"), str(source), "exec")
    except SyntaxError as exc:
        raise DeployError(f"the rendered {source} is not valid Python (line {exc.lineno}: {exc.msg}); "
                          f"this is a bug in harness/pipeline/render.py, not in {origin}") from None
    return source


def _sdk_settings(settings: dict) -> dict:
    """The settings dict as keyword arguments of ``pipelines.create`` / ``pipelines.update``."""
    from databricks.sdk.service.pipelines import PipelineLibrary, PipelinesEnvironment

    kwargs = dict(settings)
    kwargs["libraries"] = [PipelineLibrary.from_dict(lib) for lib in settings.get("libraries", [])]
    if "environment" in settings:
        kwargs["environment"] = PipelinesEnvironment.from_dict(settings["environment"])
    return kwargs


def _existing_pipeline(client, name: str) -> str | None:
    with _calling(client, f"listing pipelines named {name!r}",
                  "the permission to list pipelines in this workspace (any workspace user has it)"):
        # LIKE treats `_` as a wildcard: keep only exact matches.
        found = [p.pipeline_id for p in client.pipelines.list_pipelines(filter=f"name LIKE '{name}'") if p.name == name]
    if len(found) > 1:
        raise DeployError(f"{len(found)} pipelines are named {name!r} at {_host(client)} ({', '.join(found)}): "
                          "delete the extra ones or rename the spec's pipeline (its `name`)")
    return found[0] if found else None


def deploy(client, spec: PipelineSpec, plans: list[TablePlan], *, workspace_dir: str, wheel: Path,
           rendered_dir: Path, development: bool = False, origin: str = "the pipeline spec",
           progress: Callable[[str], None] = print) -> DeployResult:
    """Render ``spec`` into ``rendered_dir``, upload the source file and ``wheel`` into
    ``workspace_dir`` and create or edit the serverless pipeline named ``spec.name``.

    Args:
        client: a ``databricks.sdk.WorkspaceClient``.
        workspace_dir: a workspace folder (``/Users/<you>/…``; a ``/Workspace`` prefix is fine),
            created if missing; files in it are overwritten.
        wheel: the package wheel (:func:`build_wheel`).
        development: development mode (no retries on failure, compute kept warm between
            updates); off by default: production mode retries and releases compute.
        origin: how messages name the spec (its path).
        progress: called with one line per step (never with credentials).

    An existing pipeline's settings are replaced as a whole (``PUT``): edits made in the UI to
    settings that the spec renders are lost.
    """
    if getattr(client.config, "debug_headers", False):
        raise DeployError("the Databricks SDK's debug_headers (DATABRICKS_DEBUG_HEADERS) is on: it would log the "
                          "Authorization header, the token, at DEBUG level; unset it to deploy")
    _check_destination(spec, origin)
    wheel = Path(wheel)
    if wheel.suffix != ".whl" or not wheel.is_file():
        raise DeployError(f"wheel {str(wheel)!r} is not a .whl file: build it with build_wheel() "
                          "(`python -m pip wheel --no-deps -w dist .`)")
    source = _render(spec, plans, Path(rendered_dir), origin)
    api_dir, fs_dir = _split_workspace_dir(workspace_dir)
    host = _host(client)

    from databricks.sdk.service.workspace import ImportFormat

    folder_permission = (f"CAN MANAGE on the workspace folder {api_dir} (or its parent, to create it); "
                         "choose a folder you own with --workspace-dir")
    with _calling(client, f"creating the workspace folder {api_dir}", folder_permission):
        client.workspace.mkdirs(api_dir)
    for path in (source, wheel):
        with _calling(client, f"uploading {path.name} to {api_dir}", folder_permission):
            client.workspace.upload(f"{api_dir}/{path.name}", path.read_bytes(), format=ImportFormat.AUTO, overwrite=True)
        progress(f"uploaded {path.name} to {host} {fs_dir}/")

    settings = render_settings(spec, source_file=f"{fs_dir}/{source.name}", wheel=f"{fs_dir}/{wheel.name}")
    settings["development"] = development
    kwargs = _sdk_settings(settings)
    target = f"{settings['catalog']}.{settings['schema']}"
    existing = _existing_pipeline(client, spec.name)
    if existing is None:
        with _calling(client, f"creating pipeline {spec.name!r}",
                      "the permission to create pipelines (serverless) in this workspace, and in Unity Catalog "
                      f"USE CATALOG on {settings['catalog']} plus USE SCHEMA, CREATE TABLE and CREATE MATERIALIZED VIEW "
                      f"on {target} (CREATE SCHEMA on the catalog if the schema does not exist yet)"):
            pipeline_id = client.pipelines.create(**kwargs).pipeline_id
        progress(f"created pipeline {spec.name} ({pipeline_id}) publishing to {target}")
    else:
        with _calling(client, f"editing pipeline {spec.name!r} ({existing})",
                      f"CAN MANAGE on pipeline {existing}, and the Unity Catalog privileges on {target}"):
            client.pipelines.update(existing, **kwargs)
        pipeline_id = existing
        progress(f"updated pipeline {spec.name} ({pipeline_id}) publishing to {target}")
    url = f"{host}/pipelines/{pipeline_id}"
    progress(f"pipeline: {url}")
    return DeployResult(pipeline_id=pipeline_id, url=url, created=existing is None,
                        source_path=f"{fs_dir}/{source.name}", wheel_path=f"{fs_dir}/{wheel.name}", settings=settings)


def start_update(client, pipeline_id: str, *, full_refresh: bool = False,
                 full_refresh_selection: list[str] | None = None) -> str:
    """Start a pipeline update (a run) and return its id; ``full_refresh`` recomputes every
    table from scratch (streaming tables lose their state); ``full_refresh_selection``
    recomputes only those tables (``pipeline run --target databricks --full-refresh T``)."""
    if full_refresh and full_refresh_selection:
        raise DeployError("give either a full refresh of every table or a selection of tables, not both")
    selection = list(full_refresh_selection or []) or None
    with _calling(client, f"starting an update of pipeline {pipeline_id}", f"CAN RUN (or CAN MANAGE) on pipeline {pipeline_id}"):
        return client.pipelines.start_update(pipeline_id, full_refresh=full_refresh,
                                             full_refresh_selection=selection).update_id
