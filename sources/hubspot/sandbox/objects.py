"""The objects v3 API: list, read, create, update, archive and their batch forms."""

from __future__ import annotations

import bisect
from typing import Any

from sources.toolkit.sandbox.server import Request, Response, SandboxError, route
from sources.hubspot.sandbox.catalog import ObjectType
from sources.hubspot.sandbox.common import batch_inputs, batch_response, bool_arg, fail, int_arg, link, read_body

LIST_MAX_LIMIT = 100


def _not_found(obj: ObjectType, object_id: str) -> SandboxError:
    return fail(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                context={"id": [str(object_id)]})


def _missing(action: str, obj: ObjectType, ids: list[str], hint: str = "") -> list[dict[str, Any]] | None:
    """A batch's errors for the ids it found no record for (``None`` when it found all)."""
    if not ids:
        return None
    return [{"status": "error", "category": "OBJECT_NOT_FOUND",
             "message": f"Could not {action} some {obj.singular.upper()} objects, they may be deleted or not "
                        f"exist.{hint}", "context": {"ids": ids}}]


class ObjectsMixin:
    """``/crm/v3/objects/{object_type}`` routes."""

    @route("GET", r"/crm/v3/objects/(?P<object_type>[^/]+)")
    def list_objects(self, request: Request, object_type: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            store = self._stores[obj.name]
            limit = int_arg(request, "limit", 10)
            if limit > LIST_MAX_LIMIT or limit < 1:
                raise fail(400, f"limit must be between 1 and {LIST_MAX_LIMIT}; got {limit}",
                           context={"limit": [str(limit)]})
            after_raw = request.arg("after")
            start = 0
            if after_raw:
                try:
                    after = int(after_raw)
                except ValueError:
                    raise fail(400, f"Invalid after value: {after_raw}") from None
                start = bisect.bisect_left(store.ids, after)
            archived = bool_arg(request, "archived")
            names = self._select(obj, request.args("properties"))
            history = request.args("propertiesWithHistory")
            assoc = request.args("associations")
            results = []
            next_after = None
            i = start
            ids = store.ids
            while i < len(ids):
                rec = store.records[ids[i]]
                if rec.archived == archived:
                    if len(results) == limit:
                        next_after = rec.id
                        break
                    results.append(self._render_record(obj, rec, names, assoc, history))
                i += 1
            body: dict[str, Any] = {"results": results}
            if next_after is not None:
                params = {"after": str(next_after), "limit": str(limit)}
                body["paging"] = {"next": {"after": str(next_after),
                                           "link": link(self.url, f"/crm/v3/objects/{object_type}", params)}}
            return Response.json(body)

    @route("GET", r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)")
    def get_object(self, request: Request, object_type: str, object_id: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            archived = bool_arg(request, "archived")
            rec = self._get(obj, object_id, request.arg("idProperty"), archived=archived)
            if rec is None:
                raise _not_found(obj, object_id)
            names = self._select(obj, request.args("properties"))
            return Response.json(self._render_record(obj, rec, names, request.args("associations"),
                                                     request.args("propertiesWithHistory")))

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)")
    def create_object(self, request: Request, object_type: str) -> Response:
        body = read_body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            props = self._validate(obj, body.get("properties") or {}, creating=True)
            rec = self._create(obj, props)
            self._create_associations(obj, rec, body.get("associations"))
            return Response.json(self._render_record(obj, rec, None), status=201)

    @route("PATCH", r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)")
    def update_object(self, request: Request, object_type: str, object_id: str) -> Response:
        body = read_body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            rec = self._get(obj, object_id, request.arg("idProperty"))
            if rec is None:
                raise _not_found(obj, object_id)
            self._update(obj, rec, self._validate(obj, body.get("properties") or {}, creating=False))
            return Response.json(self._render_record(obj, rec, None))

    @route("DELETE", r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)")
    def archive_object(self, request: Request, object_type: str, object_id: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            rec = self._get(obj, object_id)
            if rec is not None:
                self._archive(obj, rec)
            return Response.empty(204)

    # -- batch -------------------------------------------------------------------------
    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/read")
    def batch_read(self, request: Request, object_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = batch_inputs(body)
            names = self._select(obj, body.get("properties"))
            id_property = body.get("idProperty")
            archived = bool_arg(request, "archived")
            results, missing = [], []
            for item in inputs:
                raw = item.get("id") if isinstance(item, dict) else None
                rec = self._get(obj, raw, id_property, archived=archived)
                if rec is None:
                    missing.append(str(raw))
                else:
                    results.append(self._render_record(obj, rec, names,
                                                       with_history=body.get("propertiesWithHistory")))
            return batch_response(results, started, self.now_ms(),
                                  _missing("get", obj, missing, " Check that ids are valid."))

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/create")
    def batch_create(self, request: Request, object_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = batch_inputs(body)
            validated = [self._validate(obj, (i or {}).get("properties") or {}, creating=True) for i in inputs]
            results = []
            for item, props in zip(inputs, validated):
                rec = self._create(obj, props)
                self._create_associations(obj, rec, (item or {}).get("associations"))
                results.append(self._render_record(obj, rec, None))
            return batch_response(results, started, self.now_ms(), status=201)

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/update")
    def batch_update(self, request: Request, object_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = batch_inputs(body)
            planned, missing = [], []
            for item in inputs:
                item = item or {}
                rec = self._get(obj, item.get("id"), item.get("idProperty"))
                props = self._validate(obj, item.get("properties") or {}, creating=False)
                if rec is None:
                    missing.append(str(item.get("id")))
                else:
                    planned.append((rec, props))
            results = [self._render_record(obj, self._update(obj, rec, props), None) for rec, props in planned]
            return batch_response(results, started, self.now_ms(), _missing("update", obj, missing))

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/upsert")
    def batch_upsert(self, request: Request, object_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            started = self.now_ms()
            obj = self._resolve(object_type)
            inputs = batch_inputs(body)
            results = []
            for item in inputs:
                item = item or {}
                id_property = item.get("idProperty") or "hs_object_id"
                props = self._validate(obj, item.get("properties") or {}, creating=True)
                rec = self._get(obj, item.get("id"), id_property)
                if rec is None:
                    if id_property != "hs_object_id":
                        props.setdefault(id_property, str(item.get("id")))
                    rec = self._create(obj, props)
                    out = self._render_record(obj, rec, None)
                    out["new"] = True
                else:
                    props.pop(obj.created_property, None)
                    out = self._render_record(obj, self._update(obj, rec, props), None)
                    out["new"] = False
                results.append(out)
            return batch_response(results, started, self.now_ms())

    @route("POST", r"/crm/v3/objects/(?P<object_type>[^/]+)/batch/archive")
    def batch_archive(self, request: Request, object_type: str) -> Response:
        body = read_body(request)
        with self.lock:
            obj = self._resolve(object_type)
            for item in batch_inputs(body):
                rec = self._get(obj, (item or {}).get("id"))
                if rec is not None:
                    self._archive(obj, rec)
            return Response.empty(204)
