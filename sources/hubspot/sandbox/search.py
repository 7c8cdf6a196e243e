"""The search API: ``POST /crm/v3/objects/{object_type}/search`` with its filter groups,
query, sort and paging limits, answered from the search index (see ``store``)."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Callable

from sources.toolkit.sandbox.server import Request, Response, route
from sources.hubspot.sandbox.catalog import ObjectType
from sources.hubspot.sandbox.common import fail, read_body
from sources.hubspot.sandbox.store import _Store
from sources.hubspot.sandbox.values import sort_key

SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18

OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}


class SearchMixin:
    """The search route and how a query becomes a list of ids."""

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/search")
    def search(self, request: Request, object_type: str) -> Response:
        body = read_body(request) or {}
        if not isinstance(body, dict):
            raise fail(400, "Invalid input JSON: expected an object")
        with self.lock:
            obj = self._resolve(object_type)
            store = self._stores[obj.name]
            limit = body.get("limit", 10)
            try:
                limit = int(limit if limit is not None else 10)
            except (TypeError, ValueError):
                raise fail(400, f"Invalid limit: {limit}") from None
            if limit > SEARCH_MAX_LIMIT or limit < 0:
                raise fail(400, f"limit must be between 0 and {SEARCH_MAX_LIMIT}; got {limit}",
                           context={"limit": [str(limit)]})
            after_raw = body.get("after")
            try:
                offset = int(after_raw) if after_raw not in (None, "") else 0
            except (TypeError, ValueError):
                raise fail(400, f"Invalid after value: {after_raw}. Use the value of paging.next.after.") from None
            if offset < 0:
                raise fail(400, f"Invalid after value: {after_raw}")
            if offset + limit > SEARCH_MAX_RESULTS:
                raise fail(400, f"The CRM search API returns at most {SEARCH_MAX_RESULTS} results per query; "
                                f"after={offset} with limit={limit} asks beyond that. Narrow the query instead.",
                           context={"after": [str(offset)], "limit": [str(limit)]})
            groups = self._check_filter_groups(obj, body.get("filterGroups") or [])
            sort = self._parse_sorts(obj, body.get("sorts") or [])
            query = body.get("query")
            ids = self._search_ids(store, groups, sort, query)
            page = ids[offset:offset + limit]
            names = self._select(obj, body.get("properties"))
            results = []
            for rid in page:
                props, created, updated = store.index[rid]
                results.append(self._render(obj, rid, props, created, updated, names))
            out: dict[str, Any] = {"total": len(ids), "results": results}
            if offset + limit < len(ids) and limit > 0:
                out["paging"] = {"next": {"after": str(offset + limit)}}
            return Response.json(out)

    def _check_filter_groups(self, obj: ObjectType, groups: Any) -> list[list[dict[str, Any]]]:
        if not isinstance(groups, list):
            raise fail(400, "filterGroups must be an array")
        if len(groups) > MAX_FILTER_GROUPS:
            raise fail(400, f"Too many filter groups: {len(groups)}. A search can have at most "
                            f"{MAX_FILTER_GROUPS} filterGroups.")
        total = 0
        parsed = []
        for group in groups:
            filters = (group or {}).get("filters") or []
            if len(filters) > MAX_FILTERS_PER_GROUP:
                raise fail(400, f"Too many filters in a filter group: {len(filters)}. A filter group can have at "
                                f"most {MAX_FILTERS_PER_GROUP} filters.")
            total += len(filters)
            checked = []
            for f in filters:
                name = (f or {}).get("propertyName")
                op = str((f or {}).get("operator") or "").upper()
                if op not in OPERATORS:
                    raise fail(400, f"Invalid operator: {f.get('operator')}. Use one of {sorted(OPERATORS)}")
                definition = obj.properties.get(name) if name != "id" else obj.properties.get("hs_object_id")
                if definition is None:
                    raise fail(400, f"There was a problem with the request: property {name!r} does not exist "
                                    f"on {obj.name}.")
                if op == "BETWEEN" and (f.get("value") is None or f.get("highValue") is None):
                    raise fail(400, "BETWEEN needs both value and highValue")
                if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
                    raise fail(400, f"{op} needs a values array")
                if op not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN") and f.get("value") is None:
                    raise fail(400, f"{op} needs a value")
                checked.append({**f, "operator": op, "propertyName": definition["name"]})
            parsed.append(checked)
        if total > MAX_FILTERS_TOTAL:
            raise fail(400, f"Too many filters: {total}. A search can have at most {MAX_FILTERS_TOTAL} filters.")
        return parsed

    def _parse_sorts(self, obj: ObjectType, sorts: Any) -> tuple[str, bool] | None:
        if not isinstance(sorts, list):
            raise fail(400, "sorts must be an array")
        if len(sorts) > 1:
            raise fail(400, f"Too many sorts: {len(sorts)}. A search can only have 1 sort.")
        if not sorts:
            return None
        s = sorts[0]
        if isinstance(s, str):
            text = s.strip()
            if text.startswith("{"):
                try:
                    s = json.loads(text)
                except ValueError:
                    raise fail(400, f"Invalid sort: {text}") from None
            else:
                desc = text.startswith("-")
                name = text.lstrip("-+")
                s = {"propertyName": name, "direction": "DESCENDING" if desc else "ASCENDING"}
        name = (s or {}).get("propertyName")
        direction = str((s or {}).get("direction") or "ASCENDING").upper()
        if direction not in ("ASCENDING", "DESCENDING"):
            raise fail(400, f"Invalid sort direction: {direction}")
        if name == "id":
            name = "hs_object_id"
        if name not in obj.properties:
            raise fail(400, f"There was a problem with the request: cannot sort by unknown property {name!r}.")
        return name, direction == "DESCENDING"

    def _search_ids(self, store: _Store, groups: list[list[dict]], sort: tuple[str, bool] | None,
                    query: Any) -> list[int]:
        """Ids of the search-visible records matching the query, in result order. Cached per
        query until the index changes; per-property typed values are kept in columns, so
        re-anchored queries (new filter values every page) stay cheap."""
        self._apply_pending(store)
        key = json.dumps([groups, sort, query], sort_keys=True, default=str)
        hit = store.cache.get(key)
        if hit is not None and hit[0] == store.index_version:
            return hit[1]
        obj = store.obj
        predicates = [[self._compile(store, f) for f in g] for g in groups]
        predicates = [g for g in predicates if g]
        text = str(query).strip().lower() if query else ""
        searchable = [n for n in obj.properties if obj.properties[n]["type"] in ("string", "phone_number")]
        index = store.index
        matched: list[int] = []
        for rid in index:
            if predicates and not any(all(p(rid) for p in g) for g in predicates):
                continue
            if text:
                props = index[rid][0]
                if not any(text in (props.get(n) or "").lower() for n in searchable):
                    continue
            matched.append(rid)
        matched.sort()
        if sort is not None:
            name, desc = sort
            col = store.column(name)
            present = [rid for rid in matched if rid in col]
            missing = [rid for rid in matched if rid not in col]
            present.sort(key=col.__getitem__, reverse=desc)   # stable: ties keep id order
            ids = present + missing
        else:
            ids = matched
        if len(store.cache) > 256:
            store.cache.clear()
        store.cache[key] = (store.index_version, ids)
        return ids

    def _compile(self, store: _Store, f: dict[str, Any]) -> Callable[[int], bool]:
        """A predicate over record ids for one filter."""
        name = f["propertyName"]
        kind = store.obj.properties[name]["type"]
        op = f["operator"]
        col = store.column(name)
        get = col.get

        def key(v: Any):
            return sort_key(kind, v)

        if op == "HAS_PROPERTY":
            return lambda rid: rid in col
        if op == "NOT_HAS_PROPERTY":
            return lambda rid: rid not in col
        if op in ("IN", "NOT_IN"):
            wanted = {key(v) for v in f.get("values") or []}
            wanted.discard(None)
            if op == "IN":
                return lambda rid: get(rid) in wanted
            return lambda rid: get(rid) not in wanted
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern = str(f.get("value")).lower()
            wildcard = "*" in pattern or "?" in pattern
            index = store.index

            def contains(rid: int) -> bool:
                value = (index[rid][0].get(name) or "").lower()
                if not value:
                    return False
                tokens = [value] + re.findall(r"[\w@.+-]+", value) + re.findall(r"\w+", value)
                if wildcard:
                    return any(fnmatch.fnmatchcase(t, pattern) for t in tokens)
                return pattern in tokens

            if op == "CONTAINS_TOKEN":
                return contains
            return lambda rid: not contains(rid)
        low = key(f.get("value"))
        if op == "EQ":
            return lambda rid: low is not None and get(rid) == low
        if op == "NEQ":
            return lambda rid: get(rid) != low
        if low is None:
            return lambda rid: False
        if op == "BETWEEN":
            high = key(f.get("highValue"))
            if high is None:
                return lambda rid: False

            def between(rid: int) -> bool:
                v = get(rid)
                return v is not None and low <= v <= high
            return between
        if op == "GT":
            return lambda rid: (v := get(rid)) is not None and v > low
        if op == "GTE":
            return lambda rid: (v := get(rid)) is not None and v >= low
        if op == "LT":
            return lambda rid: (v := get(rid)) is not None and v < low
        return lambda rid: (v := get(rid)) is not None and v <= low
