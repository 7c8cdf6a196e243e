"""What every HubSpot API family shares: error responses and request parsing."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from sources.toolkit.sandbox.server import Request, Response, SandboxError
from sources.hubspot.sandbox.values import format_ms

BATCH_MAX_INPUTS = 100


def error(status: int, message: str, category: str, **extra: Any) -> Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    body.update(extra)
    return Response.json(body, status=status)


def fail(status: int, message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> SandboxError:
    return SandboxError(error(status, message, category, **extra))


def read_body(request: Request) -> Any:
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError):
        raise fail(400, "Invalid input JSON on line 1: the request body is not valid JSON") from None


def bool_arg(request: Request, name: str) -> bool:
    return (request.arg(name) or "false").lower() == "true"


def int_arg(request: Request, name: str, default: int) -> int:
    try:
        return request.int_arg(name, default)
    except ValueError:
        raise fail(400, f"Unable to parse query parameter {name}: {request.arg(name)!r} is not an integer") from None


def link(base_url: str, path: str, params: dict[str, str]) -> str:
    """A ``paging.next.link``: ``path`` on the sandbox with ``params`` as the query."""
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
    return f"{base_url}{path}?{query}"


def batch_inputs(body: Any) -> list[Any]:
    """The ``inputs`` array of a batch request (at most ``BATCH_MAX_INPUTS``)."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise fail(400, "Invalid input JSON: expected an object with an \"inputs\" array")
    inputs = body["inputs"]
    if len(inputs) > BATCH_MAX_INPUTS:
        raise fail(400, f"Too many inputs: {len(inputs)}. The maximum batch size is {BATCH_MAX_INPUTS}.",
                   context={"inputs": [str(len(inputs))]})
    return inputs


def batch_response(results: list[Any], started: int, completed: int, errors: list[dict] | None = None,
                   status: int = 200) -> Response:
    """A batch answer; any ``errors`` make it a 207."""
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": format_ms(started),
                            "completedAt": format_ms(completed)}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        status = 207
    return Response.json(body, status=status)
