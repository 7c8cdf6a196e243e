"""How a declared sandbox authenticates requests: each scheme knows whether a request
carries its credential and which connector option holds it (``connection_options()``)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sources.toolkit.sandbox.server import Request


@dataclass(frozen=True)
class NoAuth:
    token: str | None = None

    def accepts(self, request: Request) -> bool:
        return True

    def options(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class BearerAuth:
    """``Authorization: <scheme> <token>`` for one of ``schemes``; the connector option
    ``option`` carries the token."""

    token: str
    option: str = "access_token"
    schemes: tuple[str, ...] = ("bearer",)

    def accepts(self, request: Request) -> bool:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        return scheme.lower() in self.schemes and value.strip() == self.token

    def options(self) -> dict[str, str]:
        return {self.option: self.token}


@dataclass(frozen=True)
class ApiKeyAuth:
    """An API key in a header (``header``) or a query parameter (``query``)."""

    token: str
    header: str | None = "x-api-key"
    query: str | None = None
    option: str = "api_key"

    def accepts(self, request: Request) -> bool:
        sent = request.arg(self.query) if self.query else request.header(self.header or "")
        return sent == self.token

    def options(self) -> dict[str, str]:
        return {self.option: self.token}


@dataclass(frozen=True)
class BasicAuth:
    """HTTP basic auth: ``Authorization: Basic base64(<user><user_suffix>:<token>)``. The
    connector options ``user_option`` and ``option`` carry the user and the token; the suffix
    is what the API adds to the user (Zendesk's ``jdoe@example.com/token``)."""

    user: str
    token: str
    user_option: str = "email"
    option: str = "api_token"
    user_suffix: str = ""

    def accepts(self, request: Request) -> bool:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            sent = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return sent == f"{self.user}{self.user_suffix}:{self.token}"

    def options(self) -> dict[str, str]:
        return {self.user_option: self.user, self.option: self.token}
