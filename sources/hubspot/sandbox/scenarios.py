"""The sandbox as a test fixture: its truth, the suite's scenarios, the demo, seeding, and the
Python helpers tests use to create, change and inspect records."""

from __future__ import annotations

import copy
import random
from typing import Any, Iterable

from sources.toolkit.cursors import parse_instant
from sources.toolkit.sandbox.truth import TableTruth
from sources.hubspot.sandbox import seed as seeding
from sources.hubspot.sandbox.values import format_ms


class ScenariosMixin:
    """Truth, scenarios and test helpers, all written through the store's
    ``_create``/``_update``/``_archive``."""

    # -- the truth -----------------------------------------------------------------------
    def truth_tables(self) -> list[str]:
        return [*self.object_types(), "owners"]

    def truth(self, table: str) -> TableTruth:
        """Live records as ``GET /crm/v3/objects/{type}?properties=<all>`` returns them (every
        property, ``""`` kept as stored), keyed by ``id`` with ``updatedAt`` as the cursor;
        archived records as the deleted keys (with ``archivedAt``). ``owners``: the active
        owners as ``GET /crm/v3/owners`` returns them; no deleted keys (owners have no delete
        flow)."""
        if table == "owners":
            with self.lock:
                active = [copy.deepcopy(o) for o in self._owners if not o["archived"]]
            return TableTruth.of("owners", ["id"], "updatedAt", active)
        with self.lock:
            obj = self._resolve(table)
            store = self._store(table)
            names = sorted(obj.properties)
            live, gone = [], []
            for rid in store.ids:
                rec = store.records[rid]
                rendered = self._render_record(obj, rec, names)
                if rec.archived:
                    gone.append((rendered, format_ms(rec.archived_at) if rec.archived_at is not None else None))
                else:
                    live.append(rendered)
            return TableTruth.of(table, ["id"], "updatedAt", live, gone)

    def scenario(self, table: str, change: str, n: int) -> list:
        if table == "owners":
            return self._owner_scenario(change, n)
        if table not in self.object_types():
            return super().scenario(table, change, n)
        if change == "create":
            return [self.create_record(table, {}) for _ in range(n)]
        if change == "update":
            ids = self.record_ids(table)[:n]
            self.update_records(table, ids, {})
            return ids
        if change == "delete":
            ids = self.record_ids(table)[-n:]
            self.archive_records(table, ids)
            return ids
        if change == "burst":
            return self.seed_burst(table, n, timestamp_ms=self.now_ms() + 1000)
        if change in ("tie", "tie_update"):
            with self.lock:
                newest = self.truth(table).newest()
                ms = self.now_ms() if newest is None else int(parse_instant(newest).timestamp() * 1000)
                if change == "tie":
                    return self.seed_burst(table, n, timestamp_ms=ms)
                updated = {r["id"]: r["updatedAt"] for r in self.truth(table).records.values()}
                ids = [i for i in self.record_ids(table) if updated.get(i) != newest][:n]
                self.update_records(table, ids, {}, timestamp_ms=ms)
                return ids
        return super().scenario(table, change, n)

    # -- the demo -----------------------------------------------------------------------
    demo_seed = 500

    def describe(self) -> str:
        counts = {t: self.record_count(t) for t in self.object_types()}
        total = sum(counts.values())
        return f"{total:,} CRM records ({', '.join(f'{n:,} {t}' for t, n in counts.items())}), {len(self._owners)} owners"

    def demo_changes(self) -> str:
        contacts = self.record_ids("contacts")
        deals = self.record_ids("deals")
        self.add_property("contacts", "demo_score", type="number", field_type="number", label="Demo score")
        for i in range(25):
            self.create_record("contacts", {"email": f"demo.new.{i}@example.com", "firstname": f"New{i}",
                                            "demo_score": str(i)})
        self.update_records("contacts", contacts[:40], {"demo_score": "42.5"})
        self.update_records("deals", deals[:10], {"dealstage": "closedwon"})
        self.archive_records("contacts", contacts[-5:])
        self.archive_records("deals", deals[-3:])
        return ("new contact property demo_score; 25 contacts created, 40 updated, 5 archived; "
                "10 deals updated, 3 archived")

    # -- seeding and test helpers ------------------------------------------------------
    def _seed(self, n: int) -> None:
        rng = random.Random("hubspot-sandbox-owners")
        for i in range(n):
            first, last = rng.choice(seeding.FIRST_NAMES), rng.choice(seeding.LAST_NAMES)
            local = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and (c.isalnum() or c == "."))
            self.add_owner(f"{local}{i}@sandbox-portal.example.com", first, last)
        owner_ids = [o["id"] for o in self._owners]
        ids: dict[str, list[int]] = {}
        for obj in list(self._types.values()):
            if obj.custom:
                continue
            rng = random.Random(f"hubspot-sandbox:{obj.name}")
            created_ids = []
            for i in range(n):
                values = seeding.record_values(obj, rng, i, owner_ids)
                if obj.name == "line_items" and ids.get("products"):
                    values["hs_product_id"] = str(ids["products"][i % len(ids["products"])])
                created = rng.randrange(seeding.SEED_START, seeding.SEED_END - 30 * seeding.DAY)
                updated = created + rng.randrange(0, 30 * seeding.DAY)
                rec = self._create(obj, values, ts=updated, created=created, generated=True, immediate=True)
                created_ids.append(rec.id)
            ids[obj.name] = created_ids
        rng = random.Random("hubspot-sandbox-associations")
        contacts, companies, deals, tickets = (ids["contacts"], ids["companies"], ids["deals"], ids["tickets"])
        for i, cid in enumerate(contacts):
            company = companies[i % len(companies)]
            self._link_records("contacts", cid, "companies", company, 279)
            self._link_records("contacts", cid, "companies", company, 1)
        for i, did in enumerate(deals):
            self._link_records("deals", did, "companies", companies[rng.randrange(len(companies))], 341)
            for cid in rng.sample(contacts, k=min(len(contacts), 1 + i % 2)):
                self._link_records("deals", did, "contacts", cid, 3)
            if ids["line_items"]:
                self._link_records("deals", did, "line_items", ids["line_items"][i % len(ids["line_items"])], 19)
        for i, tid in enumerate(tickets):
            self._link_records("tickets", tid, "contacts", contacts[rng.randrange(len(contacts))], 16)
            self._link_records("tickets", tid, "companies", companies[rng.randrange(len(companies))], 339)
        engagement_types = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202, "tasks": 204}
        for name, type_id in engagement_types.items():
            for eid in ids[name]:
                self._link_records(name, eid, "contacts", contacts[rng.randrange(len(contacts))], type_id)

    def create_record(self, object_type: str, properties: dict[str, Any] | None = None,
                      timestamp_ms: int | None = None) -> str:
        """Create one record as the API would (validated); returns its id."""
        with self.lock:
            obj = self._resolve(object_type)
            props = self._validate(obj, properties or {}, creating=True)
            return str(self._create(obj, props, ts=timestamp_ms).id)

    def seed_burst(self, object_type: str, count: int, timestamp_ms: int | None = None,
                   properties: dict[str, Any] | None = None) -> list[str]:
        """Create ``count`` records that all share one createdAt/updatedAt/lastmodified
        timestamp (a bulk import); returns their ids. Visible to search immediately unless a
        search index delay is set."""
        with self.lock:
            obj = self._resolve(object_type)
            ts = self.now_ms() if timestamp_ms is None else int(timestamp_ms)
            extra = self._validate(obj, properties, creating=True) if properties else {}
            rng = random.Random(f"hubspot-sandbox-burst:{obj.name}:{ts}:{count}")
            owner_ids = [o["id"] for o in self._owners]
            store = self._stores[obj.name]
            out = []
            for i in range(count):
                values = seeding.record_values(obj, rng, len(store.ids) + i, owner_ids)
                values.update(extra)
                out.append(str(self._create(obj, values, ts=ts, created=ts, generated=True).id))
            return out

    def update_records(self, object_type: str, ids: Iterable[Any], properties: dict[str, Any] | None = None,
                       timestamp_ms: int | None = None) -> None:
        """Update records as the API would: bumps updatedAt and the lastmodified property (to
        ``timestamp_ms`` if given, else the clock, strictly later than before)."""
        with self.lock:
            obj = self._resolve(object_type)
            props = self._validate(obj, properties or {}, creating=False)
            for raw in ids:
                rec = self._get(obj, raw)
                if rec is None:
                    raise KeyError(f"no active {obj.name} record {raw}")
                self._update(obj, rec, props, ts=timestamp_ms)

    def archive_records(self, object_type: str, ids: Iterable[Any], timestamp_ms: int | None = None) -> None:
        """Archive (soft-delete) records; their lastmodified/updatedAt do not change."""
        with self.lock:
            obj = self._resolve(object_type)
            for raw in ids:
                rec = self._get(obj, raw, archived=None)
                if rec is None:
                    raise KeyError(f"no {obj.name} record {raw}")
                self._archive(obj, rec, timestamp_ms)

    def record_count(self, object_type: str, archived: bool = False) -> int:
        with self.lock:
            store = self._store(object_type)
            return sum(1 for r in store.records.values() if r.archived == archived)

    def record_ids(self, object_type: str, archived: bool = False) -> list[str]:
        with self.lock:
            store = self._store(object_type)
            return [str(i) for i in store.ids if store.records[i].archived == archived]

    def get_record(self, object_type: str, record_id: Any) -> dict[str, Any]:
        """The full stored record (all properties) as the API would render it."""
        with self.lock:
            obj = self._resolve(object_type)
            rec = self._get(obj, record_id, archived=None)
            if rec is None:
                raise KeyError(f"no {obj.name} record {record_id}")
            return self._render_record(obj, rec, None)
