"""The ``lakeflow`` command.

* ``lakeflow demo [--source hubspot|example]`` — the README's main job: start the source's
  sandbox with seeded data, land every table of ``configs/pipelines/<source>_demo.yaml`` (or
  ``<source>.yaml``) in Delta under ``./lakeflow-data``, change records in the sandbox, run
  again incrementally, and print what each run did.
* ``lakeflow pipeline run SPEC [--full-refresh T | --full-refresh-all]`` — land a spec's
  tables in Delta (:mod:`harness.pipeline`: the orchestration lives there, this module
  only parses and prints); ``pipeline status|history SPEC`` — the event log's last run per
  table and every run; ``pipeline validate|render|deploy SPEC`` — check a spec against its
  source; write it as a Databricks (Spark Declarative Pipelines) file; deploy it.
* ``lakeflow uc create-connection|show|delete`` — Unity Catalog connections.
* ``lakeflow connect start|status|stop`` — a Spark Connect server on a home.
* ``lakeflow test <source>`` — a source's tests on a target.
* ``lakeflow sandbox <source> --port P --token T [--seed N]`` — run a sandbox in the
  foreground, for trying a connector by hand.

Every argument is checked before Spark starts; Spark's own output goes to the run's log
file under ``<home>/logs/``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from harness.spark import PROJECT_ROOT


class UsageError(ValueError):
    """A bad command line, found before any work starts."""


def _print(message: str = "") -> None:
    print(message, flush=True)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def parse_options(pairs: list[str] | None, flag: str = "--option") -> dict[str, str]:
    """``["k=v", ...]`` → dict; a malformed pair names the flag and the expected form."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {pair!r}: expected KEY=VALUE (for example {flag} page_size=100)")
        out[key.strip()] = value
    return out


def _version() -> str:
    try:
        return metadata.version("lakeflow-community-connectors")
    except metadata.PackageNotFoundError:
        return "unknown"


# ------------------------------------------------------------------------------ sandbox
def _start_sandbox(source: str, seed: int | None = None, **kwargs):
    from harness.pipeline.prepare import start_sandbox

    try:
        return start_sandbox(source, seed, **kwargs)
    except ValueError as exc:  # no such sandbox
        raise UsageError(str(exc)) from None


def cmd_sandbox(args: argparse.Namespace) -> int:
    def announce(sandbox) -> None:
        _print(f"{args.source} sandbox listening on {sandbox.url} (Ctrl-C to stop)")
        # A sandbox token is a test value chosen on this command line, not a credential.
        _print(f"connector options: {sandbox.connection_options()}")

    sandbox = _start_sandbox(args.source, args.seed, token=args.token, port=args.port, host=args.host, start=False)
    sandbox.serve_forever(announce=announce)
    return 0


# ------------------------------------------------------------------------------ pipeline
def _logging_to(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("py4j", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # PySpark logs a failed SQL statement's whole JVM stack on stderr; it belongs in the log.
    logging.getLogger("SQLQueryContextLogger").propagate = True
    for handler in list(logging.getLogger("SQLQueryContextLogger").handlers):
        logging.getLogger("SQLQueryContextLogger").removeHandler(handler)


@contextlib.contextmanager
def _prepared_with_sandbox(args: argparse.Namespace, tables: list[str] | None = None):
    """The prepared run, reading from the source's sandbox when ``--sandbox`` is given
    (started for the block, then stopped)."""
    from harness.pipeline import load_spec

    spec = load_spec(args.spec)
    sandbox = _start_sandbox(spec.source, args.seed) if getattr(args, "sandbox", False) else None
    try:
        from harness.pipeline.prepare import PreparedRun

        yield PreparedRun(spec, parse_options(args.option), sandbox, tables, origin=args.spec)
    finally:
        if sandbox is not None:
            sandbox.stop()


def _full_refresh(args: argparse.Namespace, prepared) -> list[str]:
    if getattr(args, "full_refresh_all", False):
        return prepared.destinations
    return prepared.checked(list(dict.fromkeys(getattr(args, "full_refresh", None) or [])), "--full-refresh")


def _run_pipeline(prepared, spark, home: Path, log_path: Path, max_concurrent: int, live: bool | None,
                  full_refresh: list[str] = (), state_home: Path | None = None):
    from harness.pipeline.progress import progress_for
    from harness.pipeline.runner import PipelineRunner

    runner = PipelineRunner(prepared.spec, prepared.plans, spark, prepared.connection, home, state_home=state_home,
                            max_concurrent=max_concurrent, log_path=log_path, full_refresh=full_refresh,
                            spec_path=prepared.origin)
    runner.progress = progress_for(runner.tables, live)
    return runner.run()


def _print_result(result, log_path: Path) -> None:
    from harness.pipeline.progress import format_table

    _print(format_table([t.row() for t in result.tables]))
    for table in result.tables:
        for change in table.schema_changes:
            _print(f"schema change in {table.destination}: {change}")
        for warning in table.warnings:
            _print(f"WARNING {table.destination}: {warning}")
    for table in result.failed:
        _print(f"FAILED {table.destination}: {table.error} (details: {log_path})")


def _log_path(home: Path, name: str) -> Path:
    return home / "logs" / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"


def cmd_pipeline_validate(args: argparse.Namespace) -> int:
    with _prepared_with_sandbox(args) as prepared:
        pass
    _print(f"{args.spec}: valid; {_plural(len(prepared.plans), 'table')} from {prepared.spec.source}:")
    for plan in prepared.plans:
        extra = f" keys={','.join(plan.primary_keys)}" if plan.primary_keys else ""
        extra += f" sequence_by={plan.sequence_by}" if plan.sequence_by else ""
        extra += f" include={','.join(plan.include_columns)}" if plan.include_columns else ""
        extra += f" exclude={','.join(plan.exclude_columns)}" if plan.exclude_columns else ""
        extra += " schema_changes=fail" if plan.schema_changes == "fail" else ""
        _print(f"  {plan.destination:<24} <- {plan.source_table:<16} {plan.kind}{extra}")
    return 0


def cmd_pipeline_run(args: argparse.Namespace) -> int:
    if args.target == "databricks":
        if args.sandbox:
            raise UsageError("--target databricks cannot read a sandbox on this machine's 127.0.0.1; drop --sandbox")
        return _deploy(args, DeployOptions(start=True, full_refresh_all=args.full_refresh_all,
                                           full_refresh=list(args.full_refresh or [])))
    if args.max_concurrent < 1:
        raise UsageError(f"--max-concurrent {args.max_concurrent}: must be at least 1")
    if args.full_refresh and args.full_refresh_all:
        raise UsageError("--full-refresh T and --full-refresh-all: give one of them")
    from harness.pipeline.lock import home_lock
    from harness.pipeline.session import pipeline_session

    parse_options(args.option)  # a malformed --option fails before anything starts
    home = _home(args)
    # With --remote, --home is the server's; checkpoints, the event log and the log stay here.
    local_home = _home(argparse.Namespace(home=None)) if args.remote else home
    with _prepared_with_sandbox(args, args.table) as prepared:
        refresh = _full_refresh(args, prepared)
        with home_lock(local_home, f"lakeflow pipeline run {args.spec}"):
            log_path = _log_path(local_home, prepared.spec.name)
            _logging_to(log_path)
            _print(f"pipeline {prepared.spec.name}: {_plural(len(prepared.plans), 'table')} from {prepared.spec.source} "
                   f"into {prepared.destination_text()} (log: {log_path})"
                   + (f"; full refresh of {', '.join(refresh)}" if refresh else ""))
            with pipeline_session(args.target, home, log_path, f"lakeflow-pipeline-{prepared.spec.name}",
                                  remote=args.remote, progress=_print) as spark:
                result = _run_pipeline(prepared, spark, home, log_path, args.max_concurrent,
                                       None if not args.plain else False, refresh, state_home=local_home)
    _print_result(result, log_path)
    _print(f"{'done' if result.ok else 'finished with failures'} in {result.seconds:.1f}s (run {result.run_id}; "
           f"`lakeflow pipeline status {args.spec}`)")
    return 0 if result.ok else 1


def _events_of(args: argparse.Namespace):
    from harness.pipeline import load_spec
    from harness.pipeline.events import EVENTS_FILE, read_events

    spec = load_spec(args.spec)
    path = _home(args) / "pipelines" / spec.name / EVENTS_FILE
    return spec, list(read_events(path)), path


def cmd_pipeline_status(args: argparse.Namespace) -> int:
    from harness.pipeline.status import format_status

    spec, events, path = _events_of(args)
    if not events:
        _print(f"pipeline {spec.name}: no runs recorded in {path}")
        return 0
    tables = [t.destination for t in spec.tables] if spec.tables is not None else []
    _print(f"pipeline {spec.name} ({path}):")
    _print(format_status(events, tables))
    return 0


def cmd_pipeline_history(args: argparse.Namespace) -> int:
    from harness.pipeline.status import format_history, history_json

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: must be at least 1")
    spec, events, path = _events_of(args)
    if args.json:
        text = history_json(events, args.table, args.limit)
        if text:
            _print(text)
        return 0
    _print(f"pipeline {spec.name} ({path}):")
    _print(format_history(events, args.table, args.limit))
    return 0


def _home(args: argparse.Namespace) -> Path:
    from harness.spark import lakeflow_home

    return lakeflow_home(getattr(args, "home", None))


def cmd_pipeline_render(args: argparse.Namespace) -> int:
    from harness.pipeline.render import render_databricks

    with _prepared_with_sandbox(args) as prepared:
        pass
    for path in render_databricks(prepared.spec, prepared.plans, Path(args.output), origin=args.spec):
        _print(f"wrote {path}")
    return 0


@dataclass(frozen=True)
class DeployOptions:
    """What ``pipeline deploy`` (and ``pipeline run --target databricks``) does."""

    workspace_dir: str | None = None
    start: bool = False
    full_refresh_all: bool = False
    full_refresh: list[str] = field(default_factory=list)
    development: bool = False
    output: str = "build/databricks"


def cmd_pipeline_deploy(args: argparse.Namespace) -> int:
    """Render SPEC for Databricks, upload it with the package wheel, create or update the
    pipeline (and start an update with --start)."""
    return _deploy(args, DeployOptions(args.workspace_dir, args.start, args.full_refresh, [], args.development,
                                       args.output))


def _deploy(args: argparse.Namespace, options: DeployOptions) -> int:
    from harness.databricks.deploy import build_wheel, default_workspace_dir, deploy, start_update
    from harness.databricks.workspace import workspace_client

    with _prepared_with_sandbox(args) as prepared:
        pass
    selection = prepared.checked(options.full_refresh, "--full-refresh") if options.full_refresh else []
    client = workspace_client(args.profile)
    wheel = build_wheel(PROJECT_ROOT, Path(options.output) / "dist")
    _print(f"built {wheel.name}")
    result = deploy(client, prepared.spec, prepared.plans,
                    workspace_dir=options.workspace_dir or default_workspace_dir(client, prepared.spec),
                    wheel=wheel, rendered_dir=Path(options.output), development=options.development,
                    origin=args.spec, progress=_print)
    _print(f"{'created' if result.created else 'updated'} pipeline {prepared.spec.name}: {result.url}")
    if options.start:
        update = start_update(client, result.pipeline_id, full_refresh=options.full_refresh_all,
                              full_refresh_selection=selection)
        _print(f"started update {update}: {result.url}/updates/{update}")
    return 0


# ------------------------------------------------------------------------------ uc
def cmd_uc_create(args: argparse.Namespace) -> int:
    import getpass
    import os

    from harness.databricks.uc import create_connection, describe, secret_options
    from harness.databricks.workspace import workspace_client

    given = parse_options(args.option)
    options = secret_options(args.source, given, os.environ, getpass.getpass if sys.stdin.isatty() else None)
    allowed = None if args.allow_table_option is None else [n for v in args.allow_table_option for n in v.split(",") if n]
    created = create_connection(workspace_client(args.profile), args.source, args.name, options, allowed, args.comment)
    _print(f"created connection {args.name}")
    _print(describe(created))
    return 0


def cmd_uc_show(args: argparse.Namespace) -> int:
    from harness.databricks.uc import describe, get_connection
    from harness.databricks.workspace import workspace_client

    _print(describe(get_connection(workspace_client(args.profile), args.name)))
    return 0


def cmd_uc_delete(args: argparse.Namespace) -> int:
    from harness.databricks.uc import delete_connection
    from harness.databricks.workspace import workspace_client

    delete_connection(workspace_client(args.profile), args.name)
    _print(f"deleted connection {args.name}")
    return 0


# ------------------------------------------------------------------------------ demo
def cmd_demo(args: argparse.Namespace) -> int:
    from harness.pipeline.demo import demo_spec, query_example, reset_demo_state
    from harness.pipeline.lock import home_lock
    from harness.pipeline.prepare import PreparedRun
    from harness.pipeline.session import pipeline_session

    options = parse_options(args.option)
    try:
        spec_path = demo_spec(args.source)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    home = _home(args)
    started = time.monotonic()
    with home_lock(home, f"lakeflow demo --source {args.source}"):
        sandbox = _start_sandbox(args.source, args.seed)
        try:
            _print(f"[1/5] {args.source} sandbox on {sandbox.url}: {sandbox.describe()}")
            prepared = PreparedRun(str(spec_path), options, sandbox)
            log_path = _log_path(home, f"demo-{args.source}")
            _logging_to(log_path)
            _print(f"[2/5] starting local Spark with Delta (log: {log_path})")
            live = False if args.plain else None
            with pipeline_session("local", home, log_path, f"lakeflow-demo-{args.source}") as spark:
                reset_demo_state(spark, prepared, home)
                _print(f"[3/5] run 1, initial load: {_plural(len(prepared.plans), 'table')} into "
                       f"{prepared.destination_text()}")
                first = _run_pipeline(prepared, spark, home, log_path, args.max_concurrent, live)
                _print_result(first, log_path)
                changes = sandbox.demo_changes()
                _print(f"[4/5] changed the sandbox: {changes}")
                _print("[5/5] run 2, incremental")
                second = _run_pipeline(prepared, spark, home, log_path, args.max_concurrent, live)
                _print_result(second, log_path)
        finally:
            sandbox.stop()
    ok = first.ok and second.ok
    _print(f"\n{'done' if ok else 'finished with failures'} in {time.monotonic() - started:.0f}s. The tables are Delta tables "
           f"under {home}; query them from any local session:")
    _print(f"  {query_example(prepared)}")
    _print(f"  the runs: lakeflow pipeline history {spec_path} --home {home}")
    return 0 if ok else 1


# ------------------------------------------------------------------------------ spark-connect
def cmd_connect_start(args: argparse.Namespace) -> int:
    from harness import connect_server

    state = connect_server.start(args.home, args.port, progress=_print)
    _print(f"Spark Connect server on {state.url} (pid {state.pid}; log {state.log})")
    _print(f'  SparkSession.builder.remote("{state.url}").getOrCreate()')
    return 0


def cmd_connect_status(args: argparse.Namespace) -> int:
    from harness import connect_server

    state = connect_server.status(args.home)
    if state is None:
        _print(f"no Spark Connect server runs for {connect_server.state_dir(args.home).parent}")
        return 1
    _print(f"Spark Connect server on {state.url} (pid {state.pid}; log {state.log})")
    return 0


def cmd_connect_stop(args: argparse.Namespace) -> int:
    from harness import connect_server

    state = connect_server.stop(args.home)
    _print("no Spark Connect server was running" if state is None else f"stopped the server on {state.url} (pid {state.pid})")
    return 0


# ------------------------------------------------------------------------------ test
def cmd_test(args: argparse.Namespace) -> int:
    """Run a source's conformance and write-back suite on a target, as a pytest run."""
    import os
    import subprocess
    import tempfile

    from harness.conformance.config import MODE_ENV
    from harness.spark import REMOTE_ENV, TARGET_ENV

    from datasource.registry import source_package, source_packages

    try:
        package = source_package(args.source)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    tests = package.tests
    if not tests.is_dir():
        known = [name for name, p in source_packages().items() if p.tests.is_dir()]
        raise UsageError(f"no test suite for source {args.source!r} ({tests}); sources with one: {', '.join(known)}")
    env = {**os.environ, TARGET_ENV: args.target, MODE_ENV: "live" if args.live else "sandbox"}
    server_home = None
    if args.target == "connect" and not args.remote:
        from harness import connect_server

        server_home = tempfile.mkdtemp(prefix="lakeflow-connect-")
        state = connect_server.start(server_home, progress=_print)
        env[REMOTE_ENV] = state.url
    elif args.remote:
        env[REMOTE_ENV] = args.remote
    cmd = [sys.executable, "-m", "pytest", "-p", "harness.testing", str(tests), "-q", "-ra",
           *(["-k", args.k] if args.k else [])]
    _print(f"lakeflow test {args.source}: target {args.target}"
           f"{' at ' + env[REMOTE_ENV] if REMOTE_ENV in env and args.target == 'connect' else ''}, "
           f"{'live API' if args.live else 'sandbox'}")
    try:
        return subprocess.call(cmd, cwd=package.project_root, env=env)
    finally:
        if server_home is not None:
            from harness import connect_server

            connect_server.stop(server_home)
            shutil.rmtree(server_home, ignore_errors=True)


# ------------------------------------------------------------------------------ new-source
def cmd_new_source(args: argparse.Namespace) -> int:
    from harness.scaffold import ScaffoldError, new_source, project_dir

    where = Path(args.path) if args.path else Path.cwd()
    try:
        written = new_source(args.name, where, credential=args.credential)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        _print(f"wrote {path}")
    project = project_dir(args.name, where)
    _print(f"next: cd {project} && pip install -e .   # the entry point makes {args.name!r} visible to lakeflow")
    _print(f"then: lakeflow test {args.name}   # fails, saying what to implement first (docs/authoring.md)")
    return 0


# ------------------------------------------------------------------------------ doc checks
def cmd_check_docs(args: argparse.Namespace) -> int:
    """``check-doc PATH...`` / ``check-readme PATH...``: one line per problem, exit 1 on any."""
    from harness.doc_checks import main as check

    return check([args.kind, *args.paths])


# ------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakeflow", description="Lakeflow community connectors: pipelines, sandboxes and tools.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def run_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--home", default=None, help="Lakeflow home for tables, metastore, state and logs "
                       "(default: $LAKEFLOW_HOME or ./lakeflow-data)")
        p.add_argument("--max-concurrent", type=int, default=4, help="tables read at once (default 4)")
        p.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
        p.add_argument("--option", action="append", metavar="KEY=VALUE", help="connector option for every table (repeatable)")
        p.add_argument("--seed", type=int, default=None, help="sandbox data size (with --sandbox / demo)")

    demo = sub.add_parser("demo", help="land a sandbox source's tables in Delta, change them, land again")
    demo.add_argument("--source", default="hubspot", help="source to demo (default: hubspot)")
    run_flags(demo)
    demo.set_defaults(func=cmd_demo)

    pipeline = sub.add_parser("pipeline", help="run, validate, render or deploy a pipeline spec; its status and history")
    psub = pipeline.add_subparsers(dest="pipeline_command", required=True)
    run = psub.add_parser("run", help="land every table of SPEC in Delta (incremental, crash-safe)")
    run.add_argument("spec")
    run.add_argument("--sandbox", action="store_true", help="start the source's sandbox and read from it")
    run.add_argument("--table", action="append", help="only this destination table (repeatable)")
    run.add_argument("--target", choices=["local", "connect", "databricks"], default="local",
                     help="local (default): this machine's Spark and Delta; connect: a Spark Connect server "
                          "(--remote, or one started for the run on the pipeline's home); databricks: deploy and "
                          "start the pipeline (as `pipeline deploy --start`)")
    run.add_argument("--remote", default=None, help="with --target connect: sc://host:port of a running server whose "
                     "filesystem holds --home (state and path destinations are the server's)")
    run.add_argument("--profile", default=None, help="with --target databricks: ~/.databrickscfg profile")
    run.add_argument("--full-refresh", action="append", metavar="TABLE", default=None,
                     help="rebuild this destination table from the start of the source (repeatable): its checkpoint, "
                          "tombstones and offsets start over and the new table replaces the old in one commit")
    run.add_argument("--full-refresh-all", action="store_true", help="rebuild every table of SPEC")
    run_flags(run)
    for name, text in (("status", "each table's last run: when, outcome, rows, lag (from the event log)"),
                       ("history", "past runs and what each table did (from the event log)")):
        sp = psub.add_parser(name, help=text)
        sp.add_argument("spec")
        sp.add_argument("--home", default=None, help="Lakeflow home of the runs (default: $LAKEFLOW_HOME or ./lakeflow-data)")
        if name == "history":
            sp.add_argument("--table", default=None, help="only this destination table")
            sp.add_argument("--limit", type=int, default=None, help="the newest N runs")
            sp.add_argument("--json", action="store_true", help="table events as JSON lines")
        sp.set_defaults(func=cmd_pipeline_status if name == "status" else cmd_pipeline_history)
    run.set_defaults(func=cmd_pipeline_run)
    def resolve_flags(p: argparse.ArgumentParser, sandbox_help: str) -> None:
        """SPEC, and how its tables are resolved against the source (or its sandbox)."""
        p.add_argument("spec")
        p.add_argument("--sandbox", action="store_true", help=sandbox_help)
        p.add_argument("--option", action="append", metavar="KEY=VALUE", help="connector option (repeatable)")
        p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)

    validate = psub.add_parser("validate", help="check SPEC and its tables against the source (no Spark)")
    resolve_flags(validate, "check against the source's sandbox")
    validate.set_defaults(func=cmd_pipeline_validate)
    render = psub.add_parser("render", help="write SPEC as a Databricks Spark Declarative Pipelines source + settings")
    resolve_flags(render, "read table metadata from the source's sandbox")
    render.add_argument("--target", choices=["databricks"], default="databricks", help="render target (databricks)")
    render.add_argument("--output", default="build/databricks", help="output folder (default build/databricks)")
    render.set_defaults(func=cmd_pipeline_render)
    deploy = psub.add_parser("deploy", help="deploy SPEC as a Databricks pipeline (render, upload, create or update)")
    resolve_flags(deploy, "read table metadata from the source's sandbox")
    deploy.add_argument("--target", choices=["databricks"], default="databricks", help="deploy target (databricks)")
    deploy.add_argument("--workspace-dir", default=None, help="workspace folder for the pipeline file and wheel "
                        "(default /Users/<you>/lakeflow/<pipeline name>)")
    deploy.add_argument("--start", action="store_true", help="start an update once deployed")
    deploy.add_argument("--full-refresh", action="store_true", help="with --start: recompute every table")
    deploy.add_argument("--development", action="store_true", help="development mode (warm compute, no retries)")
    deploy.add_argument("--profile", default=None, help="~/.databrickscfg profile (default: DATABRICKS_HOST/TOKEN "
                        "or DATABRICKS_CONFIG_PROFILE)")
    deploy.add_argument("--output", default="build/databricks", help="local folder for the rendered files and wheel")
    deploy.set_defaults(func=cmd_pipeline_deploy)

    connect = sub.add_parser("spark-connect", help="start, stop or show a local Spark Connect server")
    csub = connect.add_subparsers(dest="connect_command", required=True)
    for name, func, text in (("start", cmd_connect_start, "start a server (Delta, this package) on 127.0.0.1"),
                             ("status", cmd_connect_status, "show the running server (exit 1 if none)"),
                             ("stop", cmd_connect_stop, "stop the running server")):
        cp = csub.add_parser(name, help=text)
        cp.add_argument("--home", default=None, help="Lakeflow home of the server's metastore, warehouse and state "
                        "(default: $LAKEFLOW_HOME or ./lakeflow-data)")
        if name == "start":
            cp.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
        cp.set_defaults(func=func)

    test = sub.add_parser("test", help="run a source's conformance and write-back suite on a Spark target")
    test.add_argument("source", help="a source with a suite in its package's test/ folder (example, hubspot, or an "
                      "installed plugin's)")
    test.add_argument("--target", choices=["local", "connect", "databricks"], default="local",
                      help="where Spark runs: local (default), connect (a Spark Connect server: --remote, or one "
                           "started on a free port for the run), databricks (Databricks Connect)")
    test.add_argument("--remote", default=None, help="sc://host:port of a running Spark Connect server (--target connect)")
    test.add_argument("--live", action="store_true", help="against the real API with credentials from "
                      "LAKEFLOW_<SOURCE>_* or dev_config.json (fails if there are none); default: the sandbox")
    test.add_argument("-k", default=None, help="only tests matching this pytest expression")
    test.set_defaults(func=cmd_test)

    uc = sub.add_parser("uc", help="Unity Catalog connections for a source (databricks-sdk)")
    usub = uc.add_subparsers(dest="uc_command", required=True)
    create = usub.add_parser("create-connection", help="create a connection holding a source's options and credential")
    create.add_argument("source", help="example or hubspot")
    create.add_argument("--name", required=True, help="the connection's name")
    create.add_argument("--option", action="append", metavar="KEY=VALUE", help="a connection option (repeatable); "
                        "secrets are better left to LAKEFLOW_<SOURCE>_<OPTION> or the hidden prompt")
    create.add_argument("--allow-table-option", action="append", metavar="NAME", default=None,
                        help="a table option readers may pass (repeatable; default: all the source documents)")
    create.add_argument("--comment", default=None)
    create.set_defaults(func=cmd_uc_create)
    for name, func, text in (("show", cmd_uc_show, "show a connection (secrets masked)"),
                             ("delete", cmd_uc_delete, "delete a connection")):
        up = usub.add_parser(name, help=text)
        up.add_argument("name")
        up.set_defaults(func=func)
    for up in (create, *[usub.choices[n] for n in ("show", "delete")]):
        up.add_argument("--profile", default=None, help="~/.databrickscfg profile (default: DATABRICKS_HOST/TOKEN "
                        "or DATABRICKS_CONFIG_PROFILE)")

    new = sub.add_parser("new-source", help="write a new source as a plugin project: connector, sandbox, tests, docs "
                         "and a pyproject.toml declaring it (never overwrites)")
    new.add_argument("name", help="the source's name: lower-case letters, digits and _ (format lakeflow_<name>)")
    new.add_argument("--path", default=None, metavar="DIR",
                     help="where to write the project lakeflow-<name>/ (default: the current directory)")
    new.add_argument("--credential", default="access_token", metavar="OPTION",
                     help="the connection option carrying the API's secret, e.g. api_key (default: access_token; "
                          "also the live-mode variable LAKEFLOW_<NAME>_<OPTION>)")
    new.set_defaults(func=cmd_new_source)

    for kind, name, what in (("doc", "check-doc", "a source's researched API doc (sources/<name>/<name>_api_doc.md)"),
                             ("readme", "check-readme", "a source's public README (sources/<name>/README.md)")):
        check = sub.add_parser(name, help=f"check {what} against its template's checklist")
        check.add_argument("paths", nargs="+", metavar="PATH")
        check.set_defaults(func=cmd_check_docs, kind=kind)

    sandbox = sub.add_parser("sandbox", help="run a source's sandbox API server in the foreground")
    sandbox.add_argument("source", help="example or hubspot")
    sandbox.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 inside a "
                         "container, to serve other containers)")
    sandbox.add_argument("--token", default=None, help="the bearer token the sandbox accepts (default: the sandbox's)")
    sandbox.add_argument("--seed", type=int, default=None, help="records to seed per object (source-specific)")
    sandbox.set_defaults(func=cmd_sandbox)
    return parser


#: What the ``harness`` extra installs (the runtime needs pyspark, pyarrow and requests only).
HARNESS_MODULES = {"yaml", "pydantic", "rich", "pytest", "databricks"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in HARNESS_MODULES:
            print(f"lakeflow {args.command}: error: it needs the harness extra ({exc.name} is not installed): "
                  f"pip install 'lakeflow-community-connectors[harness]'", file=sys.stderr)
            return 1
        raise
    except Exception as exc:  # a clear one-line error, not a traceback, for users
        from sources.http.redact import redact_text

        subcommand = (getattr(args, "pipeline_command", None) or getattr(args, "connect_command", None)
                      or getattr(args, "uc_command", None))
        name = args.command + (f" {subcommand}" if subcommand else "")
        print(f"lakeflow {name}: error: {redact_text(str(exc), [])}", file=sys.stderr)
        from harness.pipeline.spec import SpecError

        return 2 if isinstance(exc, (UsageError, SpecError)) else 1


if __name__ == "__main__":
    sys.exit(main())
