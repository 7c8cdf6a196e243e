"""``HubSpotLakeflowConnect``: HubSpot CRM objects as Spark tables.

Tables: ``contacts``, ``companies``, ``deals``, ``tickets``, ``products``, ``line_items``,
``calls``, ``emails``, ``meetings``, ``notes``, ``tasks``, ``owners``, plus every custom
object of the portal (``GET /crm/v3/schemas``; table name = the schema's ``name`` in lower
case, or its ``objectTypeId`` if that name collides with a standard table).

Connection options (strings):

* ``service_key``: a HubSpot Service Key, the documented way to connect; or
  ``access_token``: a legacy private app's access token. Exactly one is required. Either is
  sent as ``Authorization: Bearer`` and never shown in errors, logs or ``repr``.
* the shared client's options (:mod:`sources.http.settings`): ``connect_timeout``,
  ``read_timeout``, ``retry_max_attempts``, ``retry_base_delay``, ``retry_max_delay`` (20 s
  here) and ``request_deadline`` (300 s: the most one request may take, retries included).
* ``base_url`` (default ``https://api.hubapi.com``).

Table options (strings; a bad value raises an error naming the option):

* ``properties``: comma-separated property names to read (default: every property the
  properties API lists). The schema lists the same properties.
* ``associations``: comma-separated object types whose associated record ids become
  ``associations.<type>`` arrays. Defaults: contacts → companies,deals,tickets;
  companies → contacts,deals,tickets; deals → contacts,companies,line_items; tickets →
  contacts,companies,deals; line_items → deals; calls/emails/meetings/notes/tasks →
  contacts,companies,deals,tickets; products and custom objects → none. ``""`` for none.
* ``start_date``: ISO date or datetime (UTC when no zone); incremental reads, batch reads
  and the delete flow ignore records last modified (archived) before it.
* ``lookback_seconds`` (default 60): how far back each incremental run walks again, so a
  record HubSpot's search indexed late (modified before the last run but not visible to it)
  is read by the next run instead of being lost. The search window of a run ends at the
  run's start, so every record visible then is read by that run; records the last
  ``lookback_seconds`` delivered are listed in the offset (``seen``) and not delivered twice.
* ``page_size`` (default 200; 1–200): records per search request; list requests use
  ``min(page_size, 100)``.
* ``partitions`` (default 4): id-range partitions of a batch ``spark.read``. Descriptors
  are ``{"start": id|None, "end": id|None}`` meaning ``start ≤ id < end`` (a ``share`` key
  from an older version is ignored).
* ``concurrency`` (default 2): accepted for compatibility and ignored; partitions no longer
  divide the budget between them (see below).
* ``ten_second_limit`` (default 100, HubSpot Free/Starter; 190 for Pro/Enterprise): the
  app's request budget per 10 s; the connector uses 90 % of it.
* ``search_per_second`` (default 4, under HubSpot's 5/s): search requests per second.

The request budget (``0.9 × ten_second_limit`` per 10 s, and ``search_per_second`` for
searches) is shared by every reader of the same portal and token on one machine: every
table, partition and thread of every Spark Python worker takes from one
:class:`~sources.http.SharedRateLimiter`, a lock file in ``$LAKEFLOW_RATE_LIMIT_DIR``
(default ``<tempdir>/lakeflow-rate-limits``) named by a hash of the base URL, token and
limits. Machines do not share it: on a cluster each host (driver, every executor) has its
own file, so with N executor hosts reading at once set ``ten_second_limit`` to HubSpot's
limit / N (a 429 is retried anyway).

How tables are read:

* **Batch** (``spark.read``, :class:`SupportsPartition`): the list API
  (``GET /crm/v3/objects/{type}``, 100 per page, ordered by id, ``paging.next.after`` = the
  next id) split into id ranges planned from the smallest id (first list page) and the
  largest (a search sorted by ``hs_object_id`` descending). The first range starts at the
  beginning and the last has no upper end, so records the search index does not show yet
  are still read. If the ``after`` tokens are not numeric ids, a single partition reads the
  whole listing. When the property list would make the query string longer than ~6,000
  characters (HubSpot answers 414 beyond ~8k), pages are listed with ids only and the
  properties are fetched with ``POST /crm/v3/objects/{type}/batch/read`` (100 ids a call).
* **Incremental** (``read_table``, streaming): the search API on the modification property
  (``lastmodifieddate`` for contacts, ``hs_lastmodifieddate`` otherwise), see
  :mod:`sources.hubspot.incremental`. ``start_offset`` ``None``/``{}`` reads everything
  (from ``start_date`` if set), so the first stream run is a full load. The offset is
  ``{"cursor": <epoch ms>, "id": <int>, "seen": [[<ms>, <id>], ...]}`` (the recent tail;
  see ``lookback_seconds``). Read limits (``SupportsReadLimits``): a call gathers up to
  ``limits.max_records`` records (one search page without a limit), and a replay returns
  nothing past ``limits.end_offset``. Associations are fetched per page with the v4 batch
  association read.
* **Deletes** (``read_table_deletes``): the archived listing (``archived=true``, read to its
  end on every call: it cannot be filtered by time and holds ~90 days), records after the
  offset ``{"cursor": <archivedAt ms>, "id": <int>}``, with ``id``, ``archivedAt``,
  ``updatedAt``, ``archived=true`` and ``properties=None``.

Ingestion types: every CRM object (standard and custom, including calls and meetings,
whose ``archived=true`` listing works like every other object's) is ``cdc_with_deletes``.
``owners`` is ``cdc`` on ``updatedAt``: the owners API has no search, so every read lists
all owners and keeps those changed after the offset; deactivated owners leave the active
list without a dated tombstone (the archived owner listing carries no ``archivedAt``), so
no delete flow is offered for them.

Values are returned raw (HubSpot's strings); the runtime converts them to the schema
(``number`` → ``decimal(38,18)`` exactly).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Any, Iterator
from urllib.parse import urlencode

from pyspark.sql.types import StructType

from sources.http import HttpSettings, SharedRateLimiter
from sources.hubspot import incremental
from sources.hubspot.api import DEFAULT_BASE_URL, HTTP_DEFAULTS, HubSpotApi, HubSpotApiError
from sources.hubspot.incremental import ID_PROPERTY, Position, id_of, to_ms
from sources.hubspot.schema import (
    OWNERS,
    OWNERS_SCHEMA,
    STANDARD_OBJECTS,
    STANDARD_TYPE_IDS,
    ObjectSpec,
    object_schema,
)
from sources.interface import (
    ConnectorError,
    ReadLimits,
    SupportsPartition,
    SupportsReadLimits,
    UnknownTableError,
)
from sources.interface.options import raw_option
from sources.interface.read_limits import NO_LIMITS
from sources.toolkit import HTTP_OPTIONS, HttpConnector, Opt, OptionSet, value_at

log = logging.getLogger("lakeflow.hubspot")

LIST_MAX = 100
SEARCH_MAX = 200
BATCH_MAX = 100
#: Above this many characters of encoded ``properties=`` the list path reads properties by batch read.
MAX_PROPERTIES_QUERY = 6_000
#: Above this many characters of JSON property names, search asks for ids only and batch-reads.
MAX_SEARCH_PROPERTIES_BODY = 3_000

_CRM_METADATA = {"primary_keys": ["id"], "cursor_field": "updatedAt", "ingestion_type": "cdc_with_deletes"}
_OWNERS_METADATA = {"primary_keys": ["id"], "cursor_field": "updatedAt", "ingestion_type": "cdc"}

# ----------------------------------------------------------------------------------------
# options
# ----------------------------------------------------------------------------------------
#: The connector's own connection options; the shared client's (``connect_timeout`` …) are
#: read by :meth:`HttpSettings.from_options`. Exactly one of the two credentials is required.
CONNECTION = OptionSet(
    Opt("service_key", secret=True, doc="a HubSpot Service Key"),
    Opt("access_token", secret=True, doc="a legacy private app's access token"),
    Opt("base_url", default=DEFAULT_BASE_URL),
)
TABLE = OptionSet(
    Opt("properties", list, empty=[]),
    Opt("associations", list, empty=[]),   # "": none; absent: the table's default associations
    Opt("start_date"),
    Opt("lookback_seconds", float, default=60.0, low=0.0),
    Opt("page_size", int, default=SEARCH_MAX, low=1, high=SEARCH_MAX),
    Opt("partitions", int, default=4, low=1, high=1000),
    Opt("concurrency", int, default=2, low=1, high=1000),
    Opt("ten_second_limit", int, default=100, low=1),
    Opt("search_per_second", int, default=4, low=1),
)
#: What :func:`_table_options` returns: the ``TABLE`` options plus ``start_ms``,
#: ``lookback_ms`` and ``list_limit``.
TableOptions = SimpleNamespace


def _names(name: str, names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    bad = [n for n in names if not all(c.isalnum() or c in "_-." for c in n)]
    if bad:
        raise ConnectorError(f"HubSpot option {name!r} holds invalid names {bad}; give a comma-separated list.")
    return list(dict.fromkeys(names))


def _start_ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise ConnectorError(
            f"HubSpot option 'start_date' must be an ISO date or datetime (2024-01-31 or "
            f"2024-01-31T12:00:00Z), got {text!r}.") from None
    return to_ms(moment.isoformat())


def _table_options(options: dict) -> TableOptions:
    if raw_option(options, "max_records_per_call") is not None:
        raise ConnectorError(
            "HubSpot option 'max_records_per_call' was replaced by the runtime's 'maxRecordsPerBatch' "
            "(.option('maxRecordsPerBatch', '5000')), which reaches the connector as its read limit.")
    opts = TABLE.parse(options, owner="HubSpot")
    opts.properties, opts.associations = _names("properties", opts.properties), _names("associations", opts.associations)
    opts.start_ms = _start_ms(opts.start_date)
    opts.lookback_ms = int(opts.lookback_seconds * 1000)
    opts.list_limit = min(opts.page_size, LIST_MAX)
    return opts


@dataclass
class _Cycle:
    """One incremental read cycle of a table on this instance: its upper bound, fixed when
    it starts, and where it stands (the offset it last returned and the walking position)."""

    upper: int
    properties: list[str]
    last_offset: str = ""
    walked: Position | None = None
    exhausted: bool = False   # the window was read to its end at ``last_offset``


@dataclass
class _Target:
    """Association target: the column name and the objectType used in paths."""

    column: str
    object_type: str
    aliases: set[str] = field(default_factory=set)


def _norm(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_")


# ----------------------------------------------------------------------------------------
# the connector
# ----------------------------------------------------------------------------------------
class HubSpotLakeflowConnect(HttpConnector, SupportsPartition, SupportsReadLimits):
    """Reads HubSpot CRM objects (see the module docstring for tables and options)."""

    #: One of ``service_key`` / ``access_token`` is the credential; both are secret.
    CONNECTION_OPTIONS = OptionSet(CONNECTION, HTTP_OPTIONS)
    TABLE_OPTIONS = TABLE

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(dict(options))
        parsed = CONNECTION.parse(self.options, owner="HubSpot")
        key, token = parsed.service_key, parsed.access_token
        if key and token:
            raise ConnectorError("HubSpot options 'service_key' and 'access_token' were both given; pass one "
                                 "credential: the Service Key, or a legacy private app's access token.")
        if not (key or token):
            raise ConnectorError(
                "HubSpot option 'service_key' is required: a HubSpot Service Key (Development → Keys → Service "
                "keys, or Settings → Integrations → Service Keys). A legacy private app's token works too, as "
                "'access_token'.")
        self._token = key or token
        self.credential = "Service Key" if key else "private app token"
        if not parsed.base_url.startswith(("http://", "https://")):
            raise ConnectorError(
                f"HubSpot option 'base_url' must start with http:// or https://, got {parsed.base_url!r}.")
        self.base_url = parsed.base_url.rstrip("/")
        self.http = HttpSettings.from_options(self.options, HTTP_DEFAULTS, owner="HubSpot")
        self._lock = threading.Lock()
        self._cycles: dict[str, _Cycle] = {}
        self._custom: dict[str, ObjectSpec] | None = None
        self._custom_schemas: list[dict] = []

    # -- plumbing ------------------------------------------------------------------------
    def make_client(self) -> HubSpotApi:
        return HubSpotApi(self.base_url, self._token, self.http, credential=self.credential)

    #: The client (:class:`HubSpotApi`, created on first use) under its HubSpot name.
    api = HttpConnector.client

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "_lock": None, "_cycles": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _opts(self, table_options: dict | None) -> TableOptions:
        return _table_options({**self.options, **(table_options or {})})

    def _budget(self, opts: TableOptions) -> SharedRateLimiter:
        """90 % of ``ten_second_limit`` per 10 s, shared by every reader of this portal and
        token on the machine (:meth:`HubSpotApi.limiter`), so no reader divides it."""
        return self.api.limiter(max(1, int(0.9 * opts.ten_second_limit)), 10.0)

    def _limiters(self, opts: TableOptions, search: bool = False) -> list[SharedRateLimiter]:
        limiters = [self._budget(opts)]
        if search:
            limiters.append(self.api.limiter(opts.search_per_second, 1.0))
        return limiters

    # -- tables ----------------------------------------------------------------------------
    def _load_custom(self) -> dict[str, ObjectSpec]:
        """Custom objects by table name (fresh from GET /crm/v3/schemas)."""
        try:
            schemas = [s for page in self.api.pages("/crm/v3/schemas") for s in page
                       if isinstance(s, dict) and not s.get("archived")]
        except HubSpotApiError as exc:
            if exc.status == 403:
                log.warning("HubSpot: no access to custom object schemas (%s); listing standard tables only", exc)
                self._custom, self._custom_schemas = {}, []
                return {}
            raise
        found: dict[str, ObjectSpec] = {}
        for schema in schemas:
            type_id = str(schema.get("objectTypeId") or "")
            name = str(schema.get("name") or "").strip().lower()
            if not type_id:
                continue
            table = name if name and name not in STANDARD_OBJECTS and name != "owners" else type_id
            found[table] = ObjectSpec(table, type_id, "hs_lastmodifieddate", (), custom=True)
        with self._lock:
            self._custom, self._custom_schemas = found, schemas
        return found

    def list_tables(self) -> list[str]:
        return [*STANDARD_OBJECTS, "owners", *sorted(self._load_custom())]

    def _spec(self, table_name: str) -> ObjectSpec:
        known = {**STANDARD_OBJECTS, "owners": OWNERS, **(self._custom or {})}
        if table_name not in known:   # a custom object not listed yet: list the tables afresh
            self.check_table(table_name)
            known.update(self._custom or {})
        return known[table_name]

    # -- properties and associations ---------------------------------------------------------
    def _property_types(self, spec: ObjectSpec, opts: TableOptions) -> dict[str, str]:
        """``{name: type}`` of the properties to read (fresh from the properties API)."""
        types: dict[str, str] = {}
        for page in self.api.pages(f"/crm/v3/properties/{spec.object_type}", limiters=self._limiters(opts)):
            for definition in page:
                if isinstance(definition, dict) and definition.get("name") and not definition.get("archived"):
                    types[str(definition["name"])] = str(definition.get("type") or "string")
        if opts.properties is not None:
            unknown = [p for p in opts.properties if p not in types]
            if unknown:
                raise ConnectorError(
                    f"HubSpot option 'properties' names properties that {spec.table} does not have: {unknown}. "
                    f"Known properties include: {', '.join(sorted(types)[:30])}…")
            types = {p: types[p] for p in opts.properties}
        return types

    def _association_columns(self, spec: ObjectSpec, opts: TableOptions) -> list[str]:
        if spec.owners:
            return []
        names = opts.associations if opts.associations is not None else list(spec.default_associations)
        return [_norm(n) for n in names]

    def _targets(self, spec: ObjectSpec, opts: TableOptions) -> list[_Target]:
        targets = []
        for column in self._association_columns(spec, opts):
            if column in STANDARD_OBJECTS:
                target = _Target(column, STANDARD_OBJECTS[column].object_type)
            elif column in STANDARD_TYPE_IDS.values():
                target = _Target(column, column)
            else:
                try:
                    custom = self._spec(column)
                except UnknownTableError:
                    raise ConnectorError(
                        f"HubSpot option 'associations' names {column!r}, which is not an object type of this "
                        f"portal (standard: {', '.join(STANDARD_OBJECTS)}).") from None
                target = _Target(column, custom.object_type)
            target.aliases = {column, _norm(target.object_type), column.replace("_", "")}
            for schema in self._custom_schemas:
                if schema.get("objectTypeId") == target.object_type:
                    target.aliases |= {_norm(schema.get("fullyQualifiedName") or ""), _norm(schema.get("name") or "")}
            targets.append(target)
        return targets

    # -- schema and metadata -----------------------------------------------------------------
    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> StructType:
        spec = self._spec(table_name)
        if spec.owners:
            return OWNERS_SCHEMA
        opts = self._opts(table_options)
        return object_schema(self._property_types(spec, opts), self._association_columns(spec, opts))

    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        spec = self._spec(table_name)
        meta = _OWNERS_METADATA if spec.owners else _CRM_METADATA
        return {"primary_keys": list(meta["primary_keys"]), "cursor_field": meta["cursor_field"],
                "ingestion_type": meta["ingestion_type"]}

    # -- record shaping ------------------------------------------------------------------------
    @staticmethod
    def _shape(record: dict, associations: dict[str, list[str]] | None) -> dict:
        return {
            "id": str(record.get("id")),
            "properties": record.get("properties"),
            "associations": associations,
            "createdAt": record.get("createdAt"),
            "updatedAt": record.get("updatedAt"),
            "archived": bool(record.get("archived", False)),
            "archivedAt": record.get("archivedAt"),
        }

    def _batch_read(self, spec: ObjectSpec, ids: list[str], properties: list[str],
                    opts: TableOptions) -> dict[str, dict]:
        """Full records by id via POST batch/read (properties travel in the body)."""
        out: dict[str, dict] = {}
        for i in range(0, len(ids), BATCH_MAX):
            chunk = ids[i:i + BATCH_MAX]
            body = self.api.post_page(f"/crm/v3/objects/{spec.object_type}/batch/read",
                                 {"properties": properties, "propertiesWithHistory": [],
                                  "inputs": [{"id": x} for x in chunk]},
                                 limiters=self._limiters(opts))
            for record in (body or {}).get("results") or []:
                out[str(record.get("id"))] = record
        return out

    def _v4_associations(self, spec: ObjectSpec, target: _Target, ids: list[str],
                         opts: TableOptions) -> dict[str, list[str]]:
        """``{from id: [to ids]}`` via the v4 batch association read (100 ids a call)."""
        found: dict[str, list[str]] = {}
        for i in range(0, len(ids), BATCH_MAX):
            chunk = ids[i:i + BATCH_MAX]
            body = self.api.post_page(f"/crm/v4/associations/{spec.object_type}/{target.object_type}/batch/read",
                                 {"inputs": [{"id": x} for x in chunk]}, limiters=self._limiters(opts))
            for result in (body or {}).get("results") or []:
                from_id = str((result.get("from") or {}).get("id"))
                to_ids = [str(t.get("toObjectId")) for t in result.get("to") or [] if t.get("toObjectId") is not None]
                after = value_at(result, "paging.next.after", None)
                if after:
                    to_ids += self._more_associations(spec, target, from_id, str(after), opts)
                found[from_id] = list(dict.fromkeys(to_ids))
        return found

    def _more_associations(self, spec: ObjectSpec, target: _Target, from_id: str, after: str | None,
                           opts: TableOptions) -> list[str]:
        """The rest of one record's associations (v4 per-record listing, 500 a page)."""
        pages = self.api.pages(f"/crm/v4/objects/{spec.object_type}/{from_id}/associations/{target.object_type}",
                               {"limit": 500, **({"after": after} if after else {})}, self._limiters(opts))
        return [str(t.get("toObjectId")) for page in pages for t in page if t.get("toObjectId") is not None]

    def _attach_v4(self, spec: ObjectSpec, records: list[dict], targets: list[_Target],
                   opts: TableOptions) -> list[dict]:
        ids = [str(r.get("id")) for r in records]
        per_target = {t.column: self._v4_associations(spec, t, ids, opts) for t in targets} if ids else {}
        out = []
        for record in records:
            rid = str(record.get("id"))
            assoc = {t.column: per_target[t.column].get(rid, []) for t in targets} if targets else None
            out.append(self._shape(record, assoc))
        return out

    # -- incremental read (search) ----------------------------------------------------------
    def _search(self, spec: ObjectSpec, properties: list[str], opts: TableOptions):
        path = f"/crm/v3/objects/{spec.object_type}/search"

        def search(filters: list[dict], sort: str, direction: str, limit: int) -> list[dict]:
            body = {"filterGroups": [{"filters": filters}], "sorts": [{"propertyName": sort, "direction": direction}],
                    "properties": properties, "limit": limit}
            result = self.api.post_page(path, body, limiters=self._limiters(opts, search=True))
            return list((result or {}).get("results") or [])

        return search

    def _new_cycle(self, spec: ObjectSpec, opts: TableOptions, key: str, upper: int) -> _Cycle:
        cycle = _Cycle(upper=upper, properties=sorted(self._property_types(spec, opts)))
        with self._lock:
            self._cycles[key] = cycle
        return cycle

    def _end_cycle(self, key: str) -> None:
        with self._lock:
            self._cycles.pop(key, None)

    def read_table(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                   limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        spec = self._spec(table_name)
        opts = self._opts(table_options)
        if spec.owners:
            return self._read_owners(start_offset, opts)
        targets = self._targets(spec, opts)
        key = json.dumps([table_name, opts.properties, [t.column for t in targets], opts.lookback_ms])
        unchanged = dict(start_offset) if start_offset else {}
        start_key = json.dumps(unchanged, sort_keys=True)
        checkpoint = incremental.Checkpoint.from_offset(start_offset, table_name, opts.start_ms)
        replay_end = None
        if limits.end_offset is not None:
            # A replay of (start, end]: a cycle of its own whose window ends where the range does.
            replay_end = incremental.Checkpoint.from_offset(limits.end_offset, table_name, opts.start_ms).walked()
            cycle = _Cycle(upper=replay_end.cursor, properties=sorted(self._property_types(spec, opts)))
        else:
            with self._lock:
                cycle = self._cycles.get(key)
            if cycle is not None and cycle.last_offset == start_key and cycle.exhausted:
                # The previous call read this cycle's window to its end from exactly this offset.
                self._end_cycle(key)
                return iter(()), unchanged
            if cycle is None or cycle.last_offset != start_key:
                cycle = self._new_cycle(spec, opts, key, int(time.time() * 1000))
        walking = cycle.walked if cycle.walked is not None and cycle.last_offset == start_key else checkpoint.settled
        wanted = sorted(set(cycle.properties) | {spec.cursor_property, ID_PROPERTY})
        by_batch_read = len(json.dumps(wanted)) > MAX_SEARCH_PROPERTIES_BODY
        search_props = [spec.cursor_property, ID_PROPERTY] if by_batch_read else wanted
        search = self._search(spec, search_props, opts)
        seen = set(checkpoint.seen)
        cap = limits.max_records or (math.inf if replay_end is not None else opts.page_size)
        emitted: list[dict] = []
        delivered: list[incremental.Key] = []
        exhausted = False
        while len(emitted) < cap:
            result = incremental.step(search, spec.cursor_property, walking, cycle.upper, opts.page_size)
            if result is None:
                exhausted = True
                break
            walking = result.position
            for record in result.records:
                record_key = (incremental.modified_of(record, spec.cursor_property), id_of(record))
                if record_key in seen or (replay_end is not None and record_key > (replay_end.cursor, replay_end.last_id)):
                    continue
                seen.add(record_key)
                emitted.append(record)
                delivered.append(record_key)
            if result.exhausted:
                exhausted = True
                break
        if replay_end is not None:
            end = dict(limits.end_offset) if exhausted else checkpoint.after(
                delivered, walking, cycle.upper - opts.lookback_ms - 1).to_offset()
        elif not emitted:
            end = unchanged
        else:
            end = checkpoint.after(delivered, walking, cycle.upper - opts.lookback_ms - 1).to_offset()
        if replay_end is None:
            cycle.last_offset, cycle.walked, cycle.exhausted = json.dumps(end, sort_keys=True), walking, exhausted
            if not emitted and exhausted:
                self._end_cycle(key)
                return iter(()), unchanged
        if by_batch_read and emitted:
            full = self._batch_read(spec, [str(r["id"]) for r in emitted], wanted, opts)
            # A record archived since the search is left to the delete flow.
            emitted = [full[str(r["id"])] for r in emitted if str(r["id"]) in full]
        return iter(self._attach_v4(spec, emitted, targets, opts)), end

    # -- deletes ---------------------------------------------------------------------------------
    def read_table_deletes(self, table_name: str, start_offset: dict, table_options: dict[str, str], *,
                           limits: ReadLimits = NO_LIMITS) -> tuple[Iterator[dict], dict]:
        spec = self._spec(table_name)
        if spec.owners:
            raise ConnectorError(
                "HubSpot table 'owners' is ingested as 'cdc' and has no delete flow: archived owners carry no "
                "archivedAt to read them incrementally.")
        opts = self._opts(table_options)
        unchanged = dict(start_offset) if start_offset else {}
        after_key: tuple[int, int] = (-1, -1)
        if start_offset:
            position = Position.from_offset(start_offset, table_name, None)
            after_key = (position.cursor, position.last_id)
        until_key: tuple[int, int] | None = None
        if limits.end_offset:
            until = Position.from_offset(limits.end_offset, table_name, None)
            until_key = (until.cursor, until.last_id)
        floor = opts.start_ms if opts.start_ms is not None else -1
        found = []
        for record in self._list_pages(spec, {"archived": "true", "properties": ID_PROPERTY}, opts):
            archived_ms = to_ms(record.get("archivedAt")) or to_ms(record.get("updatedAt"))
            if archived_ms is None or archived_ms < floor:
                continue
            key = (archived_ms, id_of(record))
            if key > after_key and (until_key is None or key <= until_key):
                found.append((key, record))
        if not found:
            return iter(()), unchanged
        found.sort(key=lambda item: item[0])
        if limits.max_records:
            found = found[:limits.max_records]
        records = [{"id": str(r.get("id")), "properties": None, "associations": None,
                    "createdAt": r.get("createdAt"), "updatedAt": r.get("updatedAt") or r.get("archivedAt"),
                    "archived": True, "archivedAt": r.get("archivedAt") or r.get("updatedAt")}
                   for _, r in found]
        last = found[-1][0]
        return iter(records), {"cursor": last[0], "id": last[1]}

    # -- list paging -------------------------------------------------------------------------------
    def _list_pages(self, spec: ObjectSpec, params: dict, opts: TableOptions, after: str | None = None,
                    stop_at: int | None = None) -> Iterator[dict]:
        """Records of the list API from ``after`` on; stops when the next ``after`` (a numeric
        id) reaches ``stop_at``."""
        query = {"limit": opts.list_limit, **params, **({"after": after} if after else {})}
        for page in self.api.pages(f"/crm/v3/objects/{spec.object_type}", query, self._limiters(opts)):
            yield from page
            after = (page.next_params or {}).get("after")
            if stop_at is not None and str(after).isdigit() and int(after) >= stop_at:
                return

    # -- owners ------------------------------------------------------------------------------------
    def _owners(self, opts: TableOptions) -> list[dict]:
        pages = self.api.pages("/crm/v3/owners", {"limit": 100, "archived": "false"}, self._limiters(opts))
        return [owner for page in pages for owner in page]

    def _read_owners(self, start_offset: Any, opts: TableOptions) -> tuple[Iterator[dict], dict]:
        """Owners changed since the offset ``{"cursor": <ms>, "id": <last id>, "seen_at_cursor":
        [ids read at cursor]}``: every owner at the cursor not read yet is read, whatever its
        id (an owner updated in the same millisecond as the last one read, with a lower id, is
        not lost). An offset without ``seen_at_cursor`` (written before it existed) resumes
        after ``(cursor, id)``."""
        unchanged = dict(start_offset) if start_offset else {}
        position = Position.from_offset(start_offset, "owners", opts.start_ms)
        seen = None if position.start or "seen_at_cursor" not in unchanged else {int(i) for i in unchanged["seen_at_cursor"]}
        keyed = []
        for owner in self._owners(opts):
            updated = to_ms(owner.get("updatedAt"))
            if updated is None:
                continue
            key = (updated, id_of(owner))
            if position.start:
                fresh = updated >= position.cursor
            elif seen is None:
                fresh = key > (position.cursor, position.last_id)
            else:
                fresh = updated > position.cursor or (updated == position.cursor and key[1] not in seen)
            if fresh:
                keyed.append((key, owner))
        if not keyed:
            return iter(()), unchanged
        keyed.sort(key=lambda item: item[0])
        last = keyed[-1][0]
        at_last = {i for (ms, i), _ in keyed if ms == last[0]} | (seen or set() if last[0] == position.cursor else set())
        return iter([o for _, o in keyed]), {"cursor": last[0], "id": last[1], "seen_at_cursor": sorted(at_last)}

    # -- partitions (spark.read) ---------------------------------------------------------------
    def get_partitions(self, table_name: str, table_options: dict[str, str]) -> list[dict]:
        spec = self._spec(table_name)
        opts = self._opts(table_options)
        whole = [{"start": None, "end": None}]
        if not spec.owners:
            self._targets(spec, opts)   # validate the associations option on the driver
        if spec.owners or opts.partitions <= 1:
            return whole
        first = next(self.api.pages(f"/crm/v3/objects/{spec.object_type}", {"limit": 1, "properties": ID_PROPERTY},
                                    self._limiters(opts)))
        after = str((first.next_params or {}).get("after") or "")
        if not first or not after:
            return whole
        low = id_of(first[0])
        if not after.isdigit() or int(after) <= low:
            log.info("HubSpot %s: list 'after' tokens are not ids (%r); reading in one partition", table_name, after)
            return whole
        top = self._search(spec, [ID_PROPERTY], opts)([], ID_PROPERTY, "DESCENDING", 1)
        if not top:
            return whole
        high = id_of(top[0])
        if high <= low:
            return whole
        step = math.ceil((high - low + 1) / opts.partitions)
        bounds = [low + k * step for k in range(1, opts.partitions) if low + k * step <= high]
        starts = [None, *bounds]
        ends = [*bounds, None]
        # (no "share" of the budget: every partition takes from the one shared limiter)
        return [{"start": s, "end": e} for s, e in zip(starts, ends)]

    def read_partition(self, table_name: str, partition: dict, table_options: dict[str, str]) -> Iterator[dict]:
        spec = self._spec(table_name)
        opts = self._opts(table_options)
        try:
            start = partition.get("start")
            end = partition.get("end")
            start = None if start is None else int(start)
            end = None if end is None else int(end)
        except (AttributeError, TypeError, ValueError):
            raise ConnectorError(f"Invalid HubSpot partition {partition!r}; expected {{'start': int|None, 'end': int|None}}.") from None
        if spec.owners:
            return iter(self._owners(opts))
        # A "share" key (descriptors planned by an older version) is ignored: the budget is shared.
        return self._read_range(spec, start, end, opts)

    def _read_range(self, spec: ObjectSpec, start: int | None, end: int | None, opts: TableOptions) -> Iterator[dict]:
        properties = sorted(self._property_types(spec, opts))
        targets = self._targets(spec, opts)
        joined = ",".join(properties)
        by_batch_read = len(urlencode({"properties": joined})) > MAX_PROPERTIES_QUERY
        params: dict[str, Any] = {"archived": "false",
                                  "properties": ID_PROPERTY if by_batch_read else joined}
        if targets:
            params["associations"] = ",".join(t.object_type for t in targets)
        after = None if start is None else str(max(start - 1, 0))
        floor = opts.start_ms

        def pages() -> Iterator[dict]:
            page: list[dict] = []
            for record in self._list_pages(spec, params, opts, after=after, stop_at=end):
                rid = id_of(record)
                if (start is not None and rid < start) or (end is not None and rid >= end):
                    continue
                page.append(record)
                if len(page) >= opts.list_limit:
                    yield from self._finish_list_page(spec, page, properties, targets, opts, by_batch_read, floor)
                    page = []
            if page:
                yield from self._finish_list_page(spec, page, properties, targets, opts, by_batch_read, floor)

        return pages()

    def _finish_list_page(self, spec: ObjectSpec, page: list[dict], properties: list[str], targets: list[_Target],
                          opts: TableOptions, by_batch_read: bool, floor: int | None) -> list[dict]:
        if by_batch_read:
            full = self._batch_read(spec, [str(r["id"]) for r in page], properties, opts)
            merged = []
            for r in page:
                record = full.get(str(r["id"]))
                if record is not None:   # archived meanwhile: the delete flow reports it
                    merged.append({**record, "associations": r.get("associations")})
            page = merged
        out = []
        for record in page:
            if floor is not None and (to_ms(record.get("updatedAt")) or 0) < floor:
                continue
            assoc = None
            if targets:
                blocks = {_norm(k): v for k, v in (record.get("associations") or {}).items()}
                assoc = {}
                for target in targets:
                    block = next((blocks[a] for a in target.aliases if a in blocks), None) or {}
                    ids = [str(x.get("id")) for x in block.get("results") or [] if x.get("id") is not None]
                    after = value_at(block, "paging.next.after", None)
                    if after:
                        ids += self._more_associations(spec, target, str(record["id"]), None, opts)
                    assoc[target.column] = list(dict.fromkeys(ids))
            out.append(self._shape(record, assoc))
        return out
