"""Records and what search sees of them: object types, ids, the clock, the search index, and
the one place a record is created, updated, archived, validated and rendered."""

from __future__ import annotations

import heapq
import json
import time
from decimal import Decimal
from typing import Any

from sources.toolkit.sandbox.server import SandboxError
from sources.hubspot.sandbox.catalog import ObjectType
from sources.hubspot.sandbox.common import fail
from sources.hubspot.sandbox.values import InvalidValue, format_ms, normalize, parse_ms, sort_key


class _Record:
    __slots__ = ("id", "props", "created", "updated", "archived", "archived_at")

    def __init__(self, id: int, props: dict[str, str], created: int, updated: int):
        self.id = id
        self.props = props          # copy-on-write: replaced, never mutated, after creation
        self.created = created
        self.updated = updated
        self.archived = False
        self.archived_at: int | None = None


class _Store:
    """Records of one object type plus the search index (what search can see)."""

    def __init__(self, obj: ObjectType):
        self.obj = obj
        self.records: dict[int, _Record] = {}
        self.ids: list[int] = []                                        # ascending
        self.index: dict[int, tuple[dict[str, str], int, int]] = {}      # id -> (props, created, updated)
        self.index_version = 0
        self.pending: list[tuple[float, int, int, Any]] = []             # heap: (visible_at, seq, id, snapshot)
        self.cache: dict[str, tuple[int, list[int]]] = {}
        # property name -> (type, {id: comparable key}) for indexed records; built lazily the
        # first time a search filters or sorts on the property, then kept up to date.
        self.columns: dict[str, tuple[str, dict[int, Any]]] = {}

    def set_index(self, rid: int, snapshot: tuple[dict[str, str], int, int] | None) -> None:
        if snapshot is None:
            self.index.pop(rid, None)
            for _, col in self.columns.values():
                col.pop(rid, None)
            return
        self.index[rid] = snapshot
        props = snapshot[0]
        for name, (kind, col) in self.columns.items():
            key = sort_key(kind, props.get(name))
            if key is None:
                col.pop(rid, None)
            else:
                col[rid] = key

    def column(self, name: str) -> dict[int, Any]:
        kind = self.obj.properties[name]["type"]
        entry = self.columns.get(name)
        if entry is None or entry[0] != kind:
            col = {}
            for rid, (props, _, _) in self.index.items():
                key = sort_key(kind, props.get(name))
                if key is not None:
                    col[rid] = key
            entry = (kind, col)
            self.columns[name] = entry
        return entry[1]


class StoreMixin:
    """The sandbox's records (``_types``, ``_aliases``, ``_stores`` and the clock state are
    set up by ``HubSpotSandbox.__init__``)."""

    # -- object types ------------------------------------------------------------------
    def _register_type(self, obj: ObjectType) -> None:
        self._types[obj.name] = obj
        self._stores.setdefault(obj.name, _Store(obj))
        for alias in obj.aliases() + [obj.singular]:
            self._aliases[alias.lower()] = obj.name

    def _resolve(self, name: str) -> ObjectType:
        key = self._aliases.get(str(name).lower())
        if key is None:
            raise fail(400, f"Unable to infer object type from: {name}")
        return self._types[key]

    def _store(self, name: str) -> _Store:
        return self._stores[self._resolve(name).name]

    def object_types(self) -> list[str]:
        with self.lock:
            return list(self._types)

    # -- time --------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The sandbox clock, never going backwards."""
        with self.lock:
            self._last_ms = max(self._last_ms, int(self.clock()))
            return self._last_ms

    def freeze_clock(self, ms: int) -> None:
        """Make the clock return ``ms`` until changed (writes then share that timestamp)."""
        self.clock = lambda: ms

    def advance_clock(self, delta_ms: int) -> None:
        current = self.now_ms() + int(delta_ms)
        self.clock = lambda: current

    # -- ids and the search index ------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _index_put(self, store: _Store, rec: _Record, immediate: bool = False) -> None:
        snapshot = None if rec.archived else (rec.props, rec.created, rec.updated)
        if immediate or (self.search_index_delay <= 0 and not store.pending):
            store.set_index(rec.id, snapshot)
            store.index_version += 1
            return
        self._seq += 1
        heapq.heappush(store.pending, (time.monotonic() + max(0.0, self.search_index_delay), self._seq, rec.id, snapshot))
        self._apply_pending(store)

    def _apply_pending(self, store: _Store) -> None:
        now = time.monotonic()
        changed = False
        while store.pending and store.pending[0][0] <= now:
            _, _, rid, snapshot = heapq.heappop(store.pending)
            store.set_index(rid, snapshot)
            changed = True
        if changed:
            store.index_version += 1

    def set_search_index_delay(self, seconds: float) -> None:
        """Records written from now on become visible to search ``seconds`` later."""
        with self.lock:
            self.search_index_delay = float(seconds)

    def flush_search_index(self) -> None:
        """Make every pending write visible to search now."""
        with self.lock:
            for store in self._stores.values():
                while store.pending:
                    _, _, rid, snapshot = heapq.heappop(store.pending)
                    store.set_index(rid, snapshot)
                store.index_version += 1

    # -- writes ------------------------------------------------------------------------
    def _derive(self, obj: ObjectType, props: dict[str, str]) -> None:
        """HubSpot-calculated properties that follow from written ones."""
        if obj.name == "deals" and "dealstage" in props:
            stage = props.get("dealstage") or ""
            props["hs_is_closed"] = "true" if stage in ("closedwon", "closedlost") else "false"
            props["hs_is_closed_won"] = "true" if stage == "closedwon" else "false"
        if obj.name == "line_items":
            try:
                q, p = props.get("quantity"), props.get("price")
                if q not in (None, "") and p not in (None, ""):
                    props["amount"] = str((Decimal(q) * Decimal(p)).quantize(Decimal("0.01")))
            except Exception:
                pass

    def _validate(self, obj: ObjectType, values: dict[str, Any] | None, creating: bool) -> dict[str, str | None]:
        """Written property values, normalized; a 400 listing every invalid one."""
        if values is None:
            return {}
        if not isinstance(values, dict):
            raise fail(400, "Invalid input JSON: properties must be an object")
        out: dict[str, str | None] = {}
        errors = []
        for name, value in values.items():
            definition = obj.properties.get(name)
            if definition is None:
                errors.append({"isValid": False, "message": f'Property "{name}" does not exist',
                               "error": "PROPERTY_DOESNT_EXIST", "name": name, "localizedErrorMessage":
                               f'Property "{name}" does not exist'})
                continue
            if name == obj.created_property and not creating:
                continue  # the creation date can be set when creating (imports), not moved later
            meta = definition["modificationMetadata"]
            if meta["readOnlyValue"] and name != obj.created_property:
                errors.append({"isValid": False, "message": f'"{name}" is a read only property; its value cannot be set.',
                               "error": "READ_ONLY_VALUE", "name": name})
                continue
            try:
                out[name] = normalize(definition, value)
            except InvalidValue as exc:
                errors.append({"isValid": False, "message": str(exc), "error": exc.code, "name": name})
        if errors:
            raise fail(400, "Property values were not valid: " + json.dumps(errors, separators=(",", ":")))
        return out

    def _create(self, obj: ObjectType, props: dict[str, Any], ts: int | None = None, created: int | None = None,
                generated: bool = False, immediate: bool = False) -> _Record:
        """The one way a record comes to be (API, batch, upsert, seeding, bursts, scenarios).

        ``props`` are validated values, or with ``generated`` the seed generator's (trusted:
        no required-property check, no derived properties). ``ts`` is the record's
        ``updatedAt`` (default: the clock); ``created`` its ``createdAt`` (default: a written
        creation date, else ``ts``). ``immediate`` indexes it for search at once whatever the
        search index delay."""
        store = self._stores[obj.name]
        if not generated and obj.custom and obj.schema:
            missing = [n for n in obj.schema.get("requiredProperties") or [] if props.get(n) in (None, "")]
            if missing:
                raise fail(400, "Property values were not valid: " + json.dumps(
                    [{"isValid": False, "message": f"Required property {n} is missing", "error": "REQUIRED_PROPERTY",
                      "name": n} for n in missing], separators=(",", ":")))
        now = self.now_ms() if ts is None else int(ts)
        rid = self._new_id()
        if created is None:
            created = (parse_ms(props[obj.created_property]) if props.get(obj.created_property) else None) or now
        clean = {k: v for k, v in props.items() if v is not None}
        clean["hs_object_id"] = str(rid)
        clean[obj.created_property] = format_ms(created)
        clean[obj.cursor_property] = format_ms(now)
        if not generated:
            self._derive(obj, clean)
        rec = _Record(rid, clean, created, now)
        store.records[rid] = rec
        store.ids.append(rid)
        self._index_put(store, rec, immediate)
        return rec

    def _update(self, obj: ObjectType, rec: _Record, props: dict[str, Any], ts: int | None = None) -> _Record:
        """Apply validated ``props`` (``None`` clears one); ``updatedAt`` and the cursor
        property move to ``ts``, or by default to the clock but strictly later than before."""
        now = self.now_ms() if ts is None else int(ts)
        now = max(now, rec.updated + 1) if ts is None else now
        merged = dict(rec.props)
        for k, v in props.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        merged[obj.cursor_property] = format_ms(now)
        self._derive(obj, merged)
        rec.props = merged
        rec.updated = now
        self._index_put(self._stores[obj.name], rec)
        return rec

    def _archive(self, obj: ObjectType, rec: _Record, ts: int | None = None) -> None:
        """Soft-delete: ``archivedAt`` is set, ``updatedAt`` and the properties stay."""
        if rec.archived:
            return
        rec.archived = True
        rec.archived_at = self.now_ms() if ts is None else int(ts)
        self._index_put(self._stores[obj.name], rec)

    def _get(self, obj: ObjectType, raw_id: Any, id_property: str | None = None,
             archived: bool | None = False) -> _Record | None:
        """The record ``raw_id`` names (by id, or by a unique ``id_property``); ``archived``
        ``None`` finds live and archived ones."""
        store = self._stores[obj.name]
        if id_property and id_property != "hs_object_id":
            definition = obj.properties.get(id_property)
            unique = definition is not None and (definition["hasUniqueValue"] or
                                                 (obj.name == "contacts" and id_property == "email"))
            if not unique:
                raise fail(400, f"{id_property} is not a unique property and cannot be used as idProperty")
            wanted = str(raw_id)
            lowered = wanted.lower() if id_property == "email" else wanted
            for candidate in store.records.values():
                value = candidate.props.get(id_property)
                if value is not None and (value.lower() if id_property == "email" else value) == lowered:
                    if archived is None or candidate.archived == archived:
                        return candidate
            return None
        try:
            rid = int(str(raw_id))
        except ValueError:
            return None
        rec = store.records.get(rid)
        if rec is None or (archived is not None and rec.archived != archived):
            return None
        return rec

    # -- rendering ---------------------------------------------------------------------
    def _select(self, obj: ObjectType, requested: list[str] | None) -> list[str]:
        if not requested:
            return list(obj.default_properties)
        names = [n for n in dict.fromkeys(requested) if n in obj.properties]
        for n in obj.always_properties:
            if n not in names:
                names.append(n)
        return names

    def _render(self, obj: ObjectType, rid: int, props: dict[str, str], created: int, updated: int,
                names: list[str] | None, archived: bool = False, archived_at: int | None = None,
                associations: list[str] | None = None, with_history: list[str] | None = None) -> dict[str, Any]:
        """A record as the API returns it (``names`` ``None``: every stored property)."""
        if names is None:
            values = dict(sorted(props.items()))
        else:
            values = {n: props.get(n) for n in names}
        out: dict[str, Any] = {
            "id": str(rid),
            "properties": values,
            "createdAt": format_ms(created),
            "updatedAt": format_ms(updated),
            "archived": archived,
        }
        if archived and archived_at is not None:
            out["archivedAt"] = format_ms(archived_at)
        if with_history:
            history = {}
            for n in with_history:
                if n in obj.properties and props.get(n) is not None:
                    history[n] = [{"value": props[n], "timestamp": format_ms(updated),
                                   "sourceType": "API", "sourceId": "sandbox"}]
            out["propertiesWithHistory"] = history
        if associations:
            blocks = {}
            for to_name in associations:
                try:
                    to_obj = self._resolve(to_name)
                except SandboxError:
                    continue
                linked = self._assoc.get((obj.name, rid), {}).get(to_obj.name, {})
                results = []
                for to_id in sorted(linked):
                    for type_id in sorted(linked[to_id]):
                        results.append({"id": str(to_id), "type": self._v3_type_name(type_id)})
                if results:
                    blocks[to_obj.fully_qualified_name or to_obj.name] = {"results": results}
            if blocks:
                out["associations"] = blocks
        return out

    def _render_record(self, obj: ObjectType, rec: _Record, names: list[str] | None,
                       associations: list[str] | None = None, with_history: list[str] | None = None) -> dict:
        return self._render(obj, rec.id, rec.props, rec.created, rec.updated, names, rec.archived,
                            rec.archived_at, associations, with_history)
