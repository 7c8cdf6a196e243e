"""``lakeflow spark-connect start|stop|status``: a local Spark Connect server.

The server is the installed pyspark's own (Spark's Connect plugin in a local ``SparkSession``
with Delta and the Lakeflow home's metastore, as :func:`harness.spark.local_session` makes
it), run as a detached process: ``python -m harness.connect_server serve --port P``. Its
Python workers run this interpreter with the project on ``PYTHONPATH``, so a client's
``spark.read.format("lakeflow_<source>")`` finds the connectors. It listens on 127.0.0.1 at a
free port unless one is asked for, never a fixed default, so two runs (or a test and a user's
server) do not collide.

State lives in ``<home>/spark-connect/``: ``server.json`` (pid, port, ``sc://`` URL, log)
and ``server.log`` (the JVM's output).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.spark import PROJECT_ROOT, lakeflow_home

#: Seconds a start may take before it is reported as failed (the first start resolves Delta's
#: jars from Maven Central).
START_TIMEOUT = 240.0


class ConnectServerError(RuntimeError):
    """A server that cannot be started, found or stopped; the message says why and what to do."""


@dataclass
class ServerState:
    pid: int
    port: int
    url: str
    log: str
    home: str


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def state_dir(home: str | os.PathLike | None = None) -> Path:
    return lakeflow_home(home) / "spark-connect"


def _state_file(home) -> Path:
    return state_dir(home) / "server.json"


def _alive(pid: int) -> bool:
    """Whether the process runs: an exited one that is not reaped yet (a zombie, which still
    answers signal 0) is not — reaped here when it is our child. A stop used to wait its whole
    grace for one."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child: its parent reaps it, in its own time
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":  # exited, not yet reaped
                    return False
        except (OSError, IndexError):
            pass  # no /proc (macOS): signal 0 below
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def status(home: str | os.PathLike | None = None) -> ServerState | None:
    """The running server of this home, or ``None`` (a stale state file is removed)."""
    path = _state_file(home)
    if not path.exists():
        return None
    try:
        state = ServerState(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not _alive(state.pid):
        path.unlink(missing_ok=True)
        return None
    return state


def start(home: str | os.PathLike | None = None, port: int | None = None,
          timeout: float = START_TIMEOUT, progress=lambda message: None) -> ServerState:
    """Start a server for ``home`` (or return the one already running) and wait until it
    answers on its port."""
    running = status(home)
    if running is not None:
        if port not in (None, running.port):
            raise ConnectServerError(
                f"a Spark Connect server already runs for {lakeflow_home(home)} on port {running.port} "
                f"(pid {running.pid}); stop it first: lakeflow spark-connect stop")
        return running
    chosen = port or free_port()
    if _listening(chosen):
        raise ConnectServerError(f"port {chosen} is in use; choose another --port or leave it out for a free one")
    folder = state_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        dict.fromkeys([str(PROJECT_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]))}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.connect_server", "serve", "--port", str(chosen),
             "--home", str(lakeflow_home(home))],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    state = ServerState(proc.pid, chosen, f"sc://127.0.0.1:{chosen}", str(log), str(lakeflow_home(home)))
    progress(f"starting Spark Connect on port {chosen} (pid {proc.pid}, log {log})")
    deadline = time.monotonic() + timeout
    while not _listening(chosen):
        if proc.poll() is not None:
            raise ConnectServerError(f"the Spark Connect server exited with code {proc.returncode} before it "
                                     f"listened; see {log}")
        if time.monotonic() > deadline:
            _terminate(proc.pid)
            raise ConnectServerError(f"the Spark Connect server did not listen on port {chosen} within "
                                     f"{timeout:.0f}s; see {log}")
        time.sleep(0.5)
    _state_file(home).write_text(json.dumps(asdict(state)))
    return state


def _terminate(pid: int, grace: float = 20.0) -> None:
    """SIGTERM to the server's Python, which stops Spark (its JVM goes with it); the whole
    process group is killed if it is still there after ``grace`` seconds. (A SIGTERM to the
    group reached the JVM too, whose shutdown then left the Python's ``spark.stop()`` hanging
    until the kill: every stop took the full grace.)"""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop(home: str | os.PathLike | None = None) -> ServerState | None:
    """Stop this home's server; ``None`` when none ran."""
    state = status(home)
    if state is None:
        return None
    _terminate(state.pid)
    _state_file(home).unlink(missing_ok=True)
    return state


def serve(port: int, home: str, host: str = "127.0.0.1") -> None:
    """The server process: a local Delta session with Spark's Connect plugin, until SIGTERM.
    ``host`` 0.0.0.0 serves other machines (a container's published port)."""
    from harness.spark import local_session

    spark = local_session(
        "lakeflow-spark-connect", home=home, log_file=Path(home) / "spark-connect" / "server.log",
        extra_conf={
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.address": host,
            "spark.connect.grpc.binding.port": str(port),
        })
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"Spark Connect server listening on sc://{host}:{port}", flush=True)
    done.wait()
    spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.connect_server")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--home", required=True)
    run.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    serve(args.port, args.home, args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
