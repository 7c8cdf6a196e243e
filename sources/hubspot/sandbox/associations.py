"""Associations: the v4 API (batch create/read/archive/default, labels, per-record
PUT/DELETE/list), association types and labels, and the links between records."""

from __future__ import annotations

from typing import Any

from sources.toolkit.sandbox.server import Request, Response, route
from sources.hubspot.sandbox.catalog import AssociationType, ObjectType
from sources.hubspot.sandbox.common import batch_inputs, batch_response, fail, int_arg, link, read_body
from sources.hubspot.sandbox.store import _Record


class AssociationsMixin:
    """Association types (``_assoc_types``, ``_assoc_by_pair``) and links (``_assoc``:
    (type, id) -> {to_type: {to_id: set of type ids}}), set up by ``HubSpotSandbox.__init__``."""

    def _add_assoc_type(self, at: AssociationType) -> None:
        self._assoc_types[at.type_id] = at
        self._assoc_by_pair.setdefault((at.from_type, at.to_type), []).append(at)

    def _user_assoc_type(self, a: str, b: str) -> AssociationType:
        existing = self._default_type(a, b, create=False)
        if existing is not None:
            return existing
        fwd, inv = self._next_assoc_type_id, self._next_assoc_type_id + 1
        self._next_assoc_type_id += 2
        self._add_assoc_type(AssociationType(a, b, fwd, inv, None, "USER_DEFINED", True))
        if (b, a) != (a, b):
            self._add_assoc_type(AssociationType(b, a, inv, fwd, None, "USER_DEFINED", True))
        return self._assoc_types[fwd]

    def _default_type(self, a: str, b: str, create: bool = True) -> AssociationType | None:
        for at in self._assoc_by_pair.get((a, b), []):
            if at.is_default:
                return at
        return self._user_assoc_type(a, b) if create else None

    def _v3_type_name(self, type_id: int) -> str:
        at = self._assoc_types[type_id]
        base = f"{self._types[at.from_type].singular}_to_{self._types[at.to_type].singular}"
        labeled = any(o.label for o in self._assoc_by_pair.get((at.from_type, at.to_type), []))
        if at.label is None and labeled:
            return base + "_unlabeled"
        return base

    def _link_records(self, a: str, a_id: int, b: str, b_id: int, type_id: int) -> None:
        at = self._assoc_types[type_id]
        self._assoc.setdefault((a, a_id), {}).setdefault(b, {}).setdefault(b_id, set()).add(type_id)
        self._assoc.setdefault((b, b_id), {}).setdefault(a, {}).setdefault(a_id, set()).add(at.inverse_id)

    def _unlink_records(self, a: str, a_id: int, b: str, b_id: int) -> None:
        fwd = self._assoc.get((a, a_id), {}).get(b, {})
        current = fwd.get(b_id, set())
        for tid in set(current):
            current.discard(tid)
            back = self._assoc.get((b, b_id), {}).get(a, {}).get(a_id)
            if back is not None:
                back.discard(self._assoc_types[tid].inverse_id)
                if not back:
                    del self._assoc[(b, b_id)][a][a_id]
        if b_id in fwd and not fwd[b_id]:
            del fwd[b_id]

    def _spec(self, type_id: int) -> dict[str, Any]:
        at = self._assoc_types[type_id]
        return {"category": at.category, "typeId": at.type_id, "label": at.label}

    def _require(self, obj: ObjectType, raw_id: Any) -> _Record:
        rec = self._get(obj, raw_id)
        if rec is None:
            raise fail(400, f"No {obj.singular} with id {raw_id} exists", "VALIDATION_ERROR")
        return rec

    def _create_associations(self, obj: ObjectType, rec: _Record, specs: Any) -> None:
        """Link a new record as its create request's ``associations`` ask."""
        if not specs:
            return
        for spec in specs:
            try:
                to_id = int(str(spec["to"]["id"]))
                types = spec.get("types") or []
            except (KeyError, TypeError, ValueError):
                raise fail(400, "Invalid association input: expected {\"to\":{\"id\"},\"types\":[...]}") from None
            for t in types:
                at = self._assoc_types.get(int(t.get("associationTypeId", -1)))
                if at is None or at.from_type != obj.name:
                    raise fail(400, f"{t.get('associationTypeId')} is not a valid association type id from {obj.name}")
                target = self._get(self._types[at.to_type], to_id)
                if target is None:
                    raise fail(400, f"No {self._types[at.to_type].singular} with id {to_id} exists to associate with")
                self._link_records(obj.name, rec.id, at.to_type, to_id, at.type_id)

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/create")
    def v4_batch_create(self, request: Request, from_type: str, to_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            results = []
            planned = []
            for item in batch_inputs(body):
                try:
                    from_id, to_id = item["from"]["id"], item["to"]["id"]
                    types = item.get("types") or []
                except (KeyError, TypeError):
                    raise fail(400, "Invalid input: expected {from:{id}, to:{id}, types:[...]}") from None
                ra, rb = self._require(a, from_id), self._require(b, to_id)
                tids = []
                for t in types:
                    at = self._assoc_types.get(int(t.get("associationTypeId", -1)))
                    if at is None or (at.from_type, at.to_type) != (a.name, b.name):
                        raise fail(400, f"{t.get('associationTypeId')} is not a valid association type from "
                                        f"{a.name} to {b.name}")
                    tids.append(at.type_id)
                planned.append((ra, rb, tids))
            for ra, rb, tids in planned:
                for tid in tids:
                    self._link_records(a.name, ra.id, b.name, rb.id, tid)
                labels = sorted({self._assoc_types[t].label for t in tids if self._assoc_types[t].label})
                results.append({"fromObjectTypeId": a.object_type_id, "fromObjectId": ra.id,
                                "toObjectTypeId": b.object_type_id, "toObjectId": rb.id, "labels": labels})
            return batch_response(results, started, self.now_ms(), status=201)

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/associate/default")
    def v4_batch_default(self, request: Request, from_type: str, to_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            at = self._default_type(a.name, b.name)
            results = []
            for item in batch_inputs(body):
                ra, rb = self._require(a, item["from"]["id"]), self._require(b, item["to"]["id"])
                self._link_records(a.name, ra.id, b.name, rb.id, at.type_id)
                results.append(self._default_result(at, ra.id, rb.id))
            return batch_response(results, started, self.now_ms())

    def _default_result(self, at: AssociationType, a_id: int, b_id: int) -> dict[str, Any]:
        return {"from": {"id": str(a_id)}, "to": {"id": str(b_id)},
                "associationSpec": {"associationCategory": at.category, "associationTypeId": at.type_id}}

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/read")
    def v4_batch_read(self, request: Request, from_type: str, to_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            results, errors = [], []
            for item in batch_inputs(body):
                raw = (item or {}).get("id")
                try:
                    rid = int(str(raw))
                except ValueError:
                    rid = -1
                linked = self._assoc.get((a.name, rid), {}).get(b.name, {})
                live = {to_id: tids for to_id, tids in linked.items() if tids}
                if not live:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                                   "message": f"No {b.singular} is associated with {a.singular} {raw}.",
                                   "context": {"fromObjectId": [str(raw)]}})
                    continue
                results.append({"from": {"id": str(rid)},
                                "to": [{"toObjectId": to_id,
                                        "associationTypes": [self._spec(t) for t in sorted(tids)]}
                                       for to_id, tids in sorted(live.items())]})
            return batch_response(results, started, self.now_ms(), errors)

    @route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/archive")
    def v4_batch_archive(self, request: Request, from_type: str, to_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            for item in batch_inputs(body):
                try:
                    from_id = int(str(item["from"]["id"]))
                    targets = item.get("to") or []
                except (KeyError, TypeError, ValueError):
                    raise fail(400, "Invalid input: expected {from:{id}, to:[{id}]}") from None
                for t in targets:
                    self._unlink_records(a.name, from_id, b.name, int(str(t["id"])))
            return Response.empty(204)

    @route("GET", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/labels")
    def v4_labels(self, request: Request, from_type: str, to_type: str) -> Response:
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            types = self._assoc_by_pair.get((a.name, b.name), [])
            return Response.json({"results": [self._spec(at.type_id) for at in sorted(types, key=lambda t: t.type_id)]})

    @route("PUT", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations/default/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)")
    def v4_put_default(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        with self.lock:
            started = self.now_ms()
            a, b = self._resolve(from_type), self._resolve(to_type)
            ra, rb = self._require(a, from_id), self._require(b, to_id)
            at = self._default_type(a.name, b.name)
            self._link_records(a.name, ra.id, b.name, rb.id, at.type_id)
            inverse = self._assoc_types[at.inverse_id]
            return batch_response([self._default_result(at, ra.id, rb.id),
                                   self._default_result(inverse, rb.id, ra.id)], started, self.now_ms())

    @route("PUT", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)")
    def v4_put_labeled(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        body = read_body(request) or []
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            ra, rb = self._require(a, from_id), self._require(b, to_id)
            tids = []
            for t in body if isinstance(body, list) else []:
                at = self._assoc_types.get(int(t.get("associationTypeId", -1)))
                if at is None or (at.from_type, at.to_type) != (a.name, b.name):
                    raise fail(400, f"{t.get('associationTypeId')} is not a valid association type")
                tids.append(at.type_id)
            for tid in tids:
                self._link_records(a.name, ra.id, b.name, rb.id, tid)
            labels = sorted({self._assoc_types[t].label for t in tids if self._assoc_types[t].label})
            return Response.json({"fromObjectTypeId": a.object_type_id, "fromObjectId": ra.id,
                                  "toObjectTypeId": b.object_type_id, "toObjectId": rb.id, "labels": labels},
                                 status=201)

    @route("DELETE", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)")
    def v4_delete(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        with self.lock:
            a, b = self._resolve(from_type), self._resolve(to_type)
            try:
                self._unlink_records(a.name, int(from_id), b.name, int(to_id))
            except ValueError:
                pass
            return Response.empty(204)

    @route("GET", r"/crm/v4/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)/associations/(?P<to_type>[^/]+)")
    def v4_list(self, request: Request, object_type: str, object_id: str, to_type: str) -> Response:
        with self.lock:
            a, b = self._resolve(object_type), self._resolve(to_type)
            limit = int_arg(request, "limit", 500)
            if limit < 1 or limit > 500:
                raise fail(400, f"limit must be between 1 and 500; got {limit}")
            try:
                rid = int(object_id)
            except ValueError:
                rid = -1
            linked = sorted((k, v) for k, v in self._assoc.get((a.name, rid), {}).get(b.name, {}).items() if v)
            after = request.arg("after")
            if after:
                linked = [(k, v) for k, v in linked if k >= int(after)]
            page = linked[:limit]
            body: dict[str, Any] = {"results": [{"toObjectId": k, "associationTypes": [self._spec(t) for t in sorted(v)]}
                                                for k, v in page]}
            if len(linked) > limit:
                nxt = str(linked[limit][0])
                body["paging"] = {"next": {"after": nxt, "link": link(self.url, request.path, {"after": nxt})}}
            return Response.json(body)
