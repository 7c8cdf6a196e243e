"""The Spark session a pipeline runs on: this machine's local Spark with Delta, or a Spark
Connect server (``remote``, else one started on the pipeline's home for the run)."""

from __future__ import annotations

import contextlib
from pathlib import Path


@contextlib.contextmanager
def pipeline_session(target: str, home: Path, log_path: Path, app: str, remote: str | None = None, progress=print):
    """Yield the session for ``target`` (``local`` | ``connect``) and stop it (and a server
    started for the run) afterwards."""
    if target != "connect":
        from harness.spark import local_session

        spark = local_session(app, home=home, log_file=log_path)
        try:
            yield spark
        finally:
            spark.stop()
        return
    from harness import connect_server
    from harness.spark import connect_session

    started = None
    url = remote
    if not url:
        started = connect_server.start(home, progress=progress)
        url = started.url
    progress(f"on Spark Connect at {url}")
    spark = connect_session(url)
    try:
        yield spark
    finally:
        spark.stop()
        if started is not None:
            connect_server.stop(home)
