"""The ``databricks`` Spark target: a Databricks Connect session, or why there is none.

:func:`databricks_session` needs, in the Python that runs it:

* the ``databricks-connect`` package. It ships its own ``pyspark`` and so cannot share a
  virtualenv with the project's pinned ``pyspark``; releases from 16.4 on need Python 3.12, and
  the client's Python minor version must equal the compute's (Python data sources are pickled
  to it). The project therefore uses a second virtualenv (:func:`install_instructions`);
* a workspace: ``DATABRICKS_HOST`` or a profile (``DATABRICKS_CONFIG_PROFILE``, else
  ``DEFAULT``) in ``~/.databrickscfg`` (``DATABRICKS_CONFIG_FILE``), with credentials
  (``DATABRICKS_TOKEN``, or the profile's ``token`` / ``auth_type`` from ``databricks auth login``);
* compute: ``DATABRICKS_CLUSTER_ID`` (a cluster on Databricks Runtime >= the client's version)
  or ``DATABRICKS_SERVERLESS_COMPUTE_ID=auto`` (or ``cluster_id`` / ``serverless_compute_id``
  in the profile).

Whatever is missing raises :class:`TargetUnavailable` naming it, checked without network calls.
The connector code must also be importable where Spark runs its Python: install the wheel of
:func:`harness.databricks.deploy.build_wheel` on the cluster.

:func:`harness.spark.session_for` picks ``local``, ``connect`` or ``databricks`` by name.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Mapping

from harness.errors import TargetUnavailable

#: The Python that databricks-connect >= 16.4 needs.
CONNECT_PYTHON = (3, 12)
#: An example pin: use the major.minor of your cluster's Databricks Runtime (17.3 LTS here);
#: for serverless, any release up to serverless's current runtime.
CONNECT_PIN = "databricks-connect==17.3.*"
#: Project requirements that databricks-connect replaces (it ships pyspark; delta-spark, should a
#: connector add it, pulls pyspark).
_REPLACED = ("pyspark", "delta-spark")
_PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def _requirement_name(requirement: str) -> str:
    name = requirement.strip()
    for stop in "[<>=!~; ":
        name = name.split(stop, 1)[0]
    return name.lower().replace("_", "-")


def _project_requirements() -> list[str]:
    """pyproject.toml's dependencies and its harness and dev extras, less what databricks-connect replaces."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return []
    try:
        project = tomllib.loads((_PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, ValueError):
        return []
    extras = project.get("optional-dependencies", {})
    requirements = [*project.get("dependencies", []), *extras.get("harness", []), *extras.get("dev", [])]
    own = _requirement_name(project.get("name", ""))  # the dev extra's own "[harness]" is listed out above
    return [r for r in requirements if _requirement_name(r) not in (*_REPLACED, own)]


def install_instructions() -> str:
    """The commands that make the Databricks Connect virtualenv ``.venv-databricks``."""
    python = "python{}.{}".format(*CONNECT_PYTHON)
    requirements = " ".join(f"'{r}'" for r in _project_requirements()) or "<pyproject.toml's dependencies but pyspark and delta-spark>"
    return (
        f"  {python} -m venv .venv-databricks\n"
        f"  .venv-databricks/bin/pip install '{CONNECT_PIN}' {requirements}\n"
        f"  .venv-databricks/bin/pip install --no-deps -e .\n"
        f"({CONNECT_PIN.split('==')[1]} is an example: use the major.minor of your cluster's Databricks Runtime, "
        f"whose Python must be {python}; `--no-deps` keeps the project's pyspark pin out)"
    )


def _profile_section(environ: Mapping[str, str], profile: str | None) -> tuple[str, dict[str, str] | None, Path]:
    name = profile or environ.get("DATABRICKS_CONFIG_PROFILE") or "DEFAULT"
    path = Path(environ.get("DATABRICKS_CONFIG_FILE") or "~/.databrickscfg").expanduser()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return name, None, path
    if name == "DEFAULT":
        section = dict(parser.defaults())
        return name, section or None, path
    return name, (dict(parser[name]) if parser.has_section(name) else None), path


def _package_problems() -> list[str]:
    try:
        found = importlib.util.find_spec("databricks.connect") is not None
    except (ImportError, ValueError):
        found = False
    this_python = f"Python {sys.version.split()[0]} ({sys.executable})"
    if not found:
        needed = "{}.{}".format(*CONNECT_PYTHON)
        return [
            f"the databricks-connect package is not installed in {this_python}. It replaces pyspark, so it "
            f"needs a virtualenv of its own, and databricks-connect >= 16.4 needs Python {needed}; create one with:\n"
            + install_instructions()
            + "\nthen run with .venv-databricks/bin/python (or .venv-databricks/bin/pytest)"
        ]
    try:
        pyspark = metadata.version("pyspark")
    except metadata.PackageNotFoundError:
        return []
    return [f"pyspark {pyspark} is installed next to databricks-connect in {this_python}; databricks-connect "
            "ships its own pyspark: `pip uninstall -y pyspark` and then `pip install --force-reinstall databricks-connect`"]


def _workspace_problems(environ: Mapping[str, str], profile: str | None) -> list[str]:
    name, section, path = _profile_section(environ, profile)
    section = section or {}
    problems = []
    if not (environ.get("DATABRICKS_HOST") or section.get("host")):
        problems.append(
            f"no workspace: set DATABRICKS_HOST (https://<workspace>.cloud.databricks.com) and DATABRICKS_TOKEN, "
            f"or DATABRICKS_CONFIG_PROFILE to a profile with a host in {path} (profile {name!r} "
            f"{'has no host' if section else 'is not there'}; `databricks auth login --host <workspace URL>` makes one)"
        )
    elif not (environ.get("DATABRICKS_TOKEN") or environ.get("DATABRICKS_CLIENT_ID") or environ.get("DATABRICKS_AUTH_TYPE")
              or set(section) - {"host", "cluster_id", "serverless_compute_id"}):
        problems.append(f"no credentials: set DATABRICKS_TOKEN (a personal access token), or use a profile from "
                        f"`databricks auth login` via DATABRICKS_CONFIG_PROFILE (profile {name!r} in {path} has none)")
    if not (environ.get("DATABRICKS_CLUSTER_ID") or environ.get("DATABRICKS_SERVERLESS_COMPUTE_ID")
            or section.get("cluster_id") or section.get("serverless_compute_id")):
        problems.append("no compute: set DATABRICKS_SERVERLESS_COMPUTE_ID=auto (serverless) or DATABRICKS_CLUSTER_ID "
                        f"(a cluster on Databricks Runtime >= the databricks-connect version), or put serverless_compute_id "
                        f"= auto / cluster_id in profile {name!r}")
    return problems


def databricks_problems(environ: Mapping[str, str] | None = None, profile: str | None = None) -> list[str]:
    """Everything that keeps :func:`databricks_session` from starting here (empty: nothing)."""
    environ = os.environ if environ is None else environ
    return _package_problems() + _workspace_problems(environ, profile)


def databricks_session(profile: str | None = None):
    """A Databricks Connect ``SparkSession`` (``DatabricksSession.builder[.profile(p)].getOrCreate()``).

    Raises :class:`TargetUnavailable` listing every missing piece (package, workspace,
    credentials, compute; see the module docstring). Errors from Databricks itself (a
    rejected token, a stopped cluster) are raised as Databricks Connect raises them.
    """
    problems = databricks_problems(profile=profile)
    if problems:
        raise TargetUnavailable("target 'databricks' is not available:\n- " + "\n- ".join(problems))
    from databricks.connect import DatabricksSession

    builder = DatabricksSession.builder
    if profile:
        builder = builder.profile(profile)
    return builder.getOrCreate()
