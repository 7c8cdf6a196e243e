"""The sandbox kit: what every source's sandbox is built from.

* :class:`SandboxServer` (``server.py``): a threaded HTTP server on 127.0.0.1 with routing,
  request counts, latency, fault injection and the truth endpoint;
* :class:`TableTruth` (``truth.py``): what a sandbox holds, that the suite compares reads with;
* :class:`SilentServer` (``silent.py``): a server that accepts and never answers.

A source's sandbox lives beside its connector, in ``sources/<name>/sandbox.py`` (or a
``sandbox`` package), and defines one ``SandboxServer`` subclass.
"""

from sources.toolkit.sandbox.server import Fault, Request, Response, SandboxError, SandboxServer, route
from sources.toolkit.sandbox.truth import TRUTH_PATH, TableTruth, key_text

__all__ = ["Fault", "Request", "Response", "SandboxError", "SandboxServer", "TRUTH_PATH", "TableTruth", "key_text",
           "route"]
