"""Sandbox servers: real HTTP servers on 127.0.0.1 that speak each source's API.

``get_sandbox(name)`` returns the sandbox class for a source (``example``, ``hubspot``).
"""

from __future__ import annotations

import importlib

from harness.sandboxes.server import Fault, Request, Response, SandboxServer, route

_SANDBOXES = {
    "example": "harness.sandboxes.example:ExampleSandbox",
    "hubspot": "harness.sandboxes.hubspot:HubSpotSandbox",
}


def sandbox_names() -> list[str]:
    return sorted(_SANDBOXES)


def get_sandbox(name: str) -> type[SandboxServer]:
    try:
        target = _SANDBOXES[name]
    except KeyError:
        raise ValueError(f"No sandbox for source {name!r}. Sandboxes: {', '.join(sandbox_names())}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


__all__ = ["Fault", "Request", "Response", "SandboxServer", "get_sandbox", "route", "sandbox_names"]
