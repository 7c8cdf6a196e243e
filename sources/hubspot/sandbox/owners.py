"""Owners: ``GET /crm/v3/owners`` (paged, by email, archived) and ``GET /crm/v3/owners/{id}``,
plus the helpers that add and change owners."""

from __future__ import annotations

import copy
from typing import Any, Iterable

from sources.toolkit.cursors import parse_instant
from sources.toolkit.sandbox.server import Request, Response, SandboxServer, route
from sources.hubspot.sandbox import seed as seeding
from sources.hubspot.sandbox.common import bool_arg, fail, int_arg, link
from sources.hubspot.sandbox.values import format_ms


class OwnersMixin:
    """The portal's owners (``_owners``, set up by ``HubSpotSandbox.__init__``)."""

    def add_owner(self, email: str, first_name: str, last_name: str, archived: bool = False,
                  teams: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        with self.lock:
            n = len(self._owners)
            ts = format_ms(seeding.SEED_START + n * 3_600_000)
            owner = {
                "id": str(70_000_000 + n * 137 + 1),
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": 9_000_000 + n * 11 + 1,
                "userIdIncludingInactive": 9_000_000 + n * 11 + 1,
                "createdAt": ts,
                "updatedAt": ts,
                "archived": archived,
                "teams": teams if teams is not None else [
                    {"id": str(400 + n % 3), "name": ["Sales", "Support", "Success"][n % 3], "primary": True}],
            }
            self._owners.append(owner)
            return copy.deepcopy(owner)

    def touch_owners(self, ids: Iterable[str], timestamp_ms: int | None = None, **fields: Any) -> None:
        """Change owners (``fields`` such as ``lastName``) and set their ``updatedAt``."""
        wanted = {str(i) for i in ids}
        with self.lock:
            when = format_ms(timestamp_ms if timestamp_ms is not None else self.now_ms())
            for owner in self._owners:
                if owner["id"] in wanted:
                    owner.update(fields)
                    owner["updatedAt"] = when

    def _owner_scenario(self, change: str, n: int) -> list:
        """Owners change like users do: added, renamed, or many at once (a team import).
        Deactivation has no dated tombstone, so there is no ``delete`` scenario."""
        start = len(self._owners)
        if change in ("create", "burst"):
            created = [self.add_owner(f"owner{start + i}@example.com", f"First{start + i}", f"Last{start + i}")["id"]
                       for i in range(n)]
            self.touch_owners(created, timestamp_ms=self.now_ms() + (1000 if change == "burst" else 0))
            return created
        if change == "update":
            ids = [o["id"] for o in self._owners if not o["archived"]][:n]
            self.touch_owners(ids, lastName="Renamed")
            return ids
        if change in ("tie", "tie_update"):  # at the newest owner's updatedAt
            newest = self.truth("owners").newest()
            ms = int(parse_instant(newest).timestamp() * 1000)
            if change == "tie":
                ids = [self.add_owner(f"owner{start + i}@example.com", f"First{start + i}", f"Last{start + i}")["id"]
                       for i in range(n)]
            else:
                ids = [o["id"] for o in self._owners if not o["archived"] and o["updatedAt"] != newest][:n]
            self.touch_owners(ids, timestamp_ms=ms, **({} if change == "tie" else {"lastName": "Tied"}))
            return ids
        return SandboxServer.scenario(self, "owners", change, n)

    @route("GET", r"/crm/v3/owners")
    def list_owners(self, request: Request) -> Response:
        with self.lock:
            limit = int_arg(request, "limit", 100)
            if limit < 1 or limit > 500:
                raise fail(400, f"limit must be between 1 and 500; got {limit}")
            archived = bool_arg(request, "archived")
            email = request.arg("email")
            owners = [o for o in self._owners if o["archived"] == archived and (not email or o["email"] == email)]
            after = request.arg("after")
            start = 0
            if after:
                start = next((i for i, o in enumerate(owners) if int(o["id"]) >= int(after)), len(owners)) \
                    if after.isdigit() else 0
            page = owners[start:start + limit]
            body: dict[str, Any] = {"results": copy.deepcopy(page)}
            if start + limit < len(owners):
                nxt = owners[start + limit]["id"]
                body["paging"] = {"next": {"after": nxt, "link": link(self.url, "/crm/v3/owners/", {"after": nxt})}}
            return Response.json(body)

    @route("GET", r"/crm/v3/owners/(?P<owner_id>[^/]+)")
    def get_owner(self, request: Request, owner_id: str) -> Response:
        with self.lock:
            id_property = request.arg("idProperty", "id")
            archived = bool_arg(request, "archived")
            for o in self._owners:
                key = str(o["userId"]) if id_property == "userId" else o["id"]
                if key == owner_id and o["archived"] == archived:
                    return Response.json(copy.deepcopy(o))
            raise fail(404, f"Owner {owner_id} not found", "OBJECT_NOT_FOUND")
