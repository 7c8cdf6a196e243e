"""Properties (``/crm/v3/properties/{object_type}``: list, read, groups, create, update,
archive) and custom-object schemas (``/crm/v3/schemas``, also under
``/crm-object-schemas/v3/schemas``)."""

from __future__ import annotations

import copy
import re
from typing import Any

from sources.toolkit.sandbox.server import Request, Response, route
from sources.hubspot.sandbox.catalog import DEFAULT_FIELD_TYPES, FIELD_TYPES, PROPERTY_TYPES, ObjectType, prop
from sources.hubspot.sandbox.common import bool_arg, fail, read_body
from sources.hubspot.sandbox.values import format_ms


def _options(raw: list[dict[str, Any]] | None, with_description: bool = False) -> list[dict[str, Any]]:
    """Enumeration options as written (label defaults to the value, displayOrder to the
    position)."""
    return [{"label": o.get("label", o.get("value")), "value": o.get("value"),
             "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden", False)),
             **({"description": o["description"]} if with_description and o.get("description") else {})}
            for i, o in enumerate(raw or [])]


class PropertiesMixin:
    """Property definitions live on each ``ObjectType``; custom types are registered in the
    store like standard ones."""

    def _property_out(self, obj: ObjectType, definition: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(definition)
        if definition["name"] == "hubspot_owner_id":
            out["options"] = [{"label": f"{o['firstName']} {o['lastName']} ({o['email']})", "value": o["id"],
                               "displayOrder": i, "hidden": o["archived"]} for i, o in enumerate(self._owners)]
        return out

    @route("GET", r"/crm/v3/properties/(?P<object_type>[^/]+)")
    def list_properties(self, request: Request, object_type: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            archived = bool_arg(request, "archived")
            if archived:
                return Response.json({"results": []})
            return Response.json({"results": [self._property_out(obj, d) for d in obj.properties.values()]})

    @route("GET", r"/crm/v3/properties/(?P<object_type>[^/]+)/(?P<property_name>[^/]+)")
    def get_property(self, request: Request, object_type: str, property_name: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            if property_name == "groups":
                return Response.json({"results": copy.deepcopy(obj.groups)})
            definition = obj.properties.get(property_name)
            if definition is None:
                raise fail(404, f"Unable to find property {property_name} on object type {obj.object_type_id}",
                           "OBJECT_NOT_FOUND")
            return Response.json(self._property_out(obj, definition))

    @route("POST", r"/crm/v3/properties/(?P<object_type>[^/]+)")
    def create_property(self, request: Request, object_type: str) -> Response:
        body = read_body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            definition = self._new_property(obj, body)
            return Response.json(self._property_out(obj, definition), status=201)

    def _new_property(self, obj: ObjectType, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        kind = body.get("type")
        field_type = body.get("fieldType") or DEFAULT_FIELD_TYPES.get(kind or "", None)
        if not name or not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise fail(400, f"Invalid property name: {name!r}. Names are lowercase letters, digits and _.")
        if kind not in PROPERTY_TYPES:
            raise fail(400, f"Invalid property type: {kind!r}")
        if field_type not in FIELD_TYPES:
            raise fail(400, f"Invalid fieldType: {field_type!r}")
        if name in obj.properties:
            raise fail(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        group = body.get("groupName") or (obj.groups[0]["name"] if obj.groups else "")
        opts = _options(body.get("options"), with_description=True)
        if kind == "enumeration" and field_type == "booleancheckbox" and not opts:
            opts = [{"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False}]
        definition = prop(name, body.get("label") or name, kind, field_type, group, opts or None,
                          description=body.get("description") or "", hubspot_defined=False,
                          unique=bool(body.get("hasUniqueValue", False)),
                          display_order=int(body.get("displayOrder", -1)),
                          form_field=bool(body.get("formField", True)))
        now = format_ms(self.now_ms())
        definition["createdAt"] = definition["updatedAt"] = now
        definition["hidden"] = bool(body.get("hidden", False))
        definition["createdUserId"] = definition["updatedUserId"] = "1"
        obj.properties[name] = definition
        self._invalidate_caches(obj)
        return definition

    def add_property(self, object_type: str, name: str, type: str = "string", field_type: str | None = None,
                     label: str | None = None, options: list[dict[str, Any]] | None = None,
                     group_name: str | None = None) -> dict[str, Any]:
        """Add a custom property to an object type (as ``POST /crm/v3/properties`` would)."""
        with self.lock:
            obj = self._resolve(object_type)
            body = {"name": name, "type": type, "fieldType": field_type or DEFAULT_FIELD_TYPES.get(type),
                    "label": label or name, "options": options or [], "groupName": group_name}
            return copy.deepcopy(self._new_property(obj, body))

    @route("PATCH", r"/crm/v3/properties/(?P<object_type>[^/]+)/(?P<property_name>[^/]+)")
    def update_property(self, request: Request, object_type: str, property_name: str) -> Response:
        body = read_body(request) or {}
        with self.lock:
            obj = self._resolve(object_type)
            definition = obj.properties.get(property_name)
            if definition is None:
                raise fail(404, f"Unable to find property {property_name}", "OBJECT_NOT_FOUND")
            if definition["hubspotDefined"] and set(body) - {"label", "description", "options", "displayOrder",
                                                             "hidden", "groupName"}:
                raise fail(400, f"Cannot change the definition of HubSpot-defined property {property_name}")
            for key in ("label", "description", "groupName", "displayOrder", "hidden", "formField", "type",
                        "fieldType"):
                if key in body:
                    definition[key] = body[key]
            if "options" in body:
                definition["options"] = _options(body["options"])
            definition["updatedAt"] = format_ms(self.now_ms())
            self._invalidate_caches(obj)
            return Response.json(self._property_out(obj, definition))

    @route("DELETE", r"/crm/v3/properties/(?P<object_type>[^/]+)/(?P<property_name>[^/]+)")
    def archive_property(self, request: Request, object_type: str, property_name: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            definition = obj.properties.get(property_name)
            if definition is None:
                return Response.empty(204)
            if definition["hubspotDefined"] or property_name in obj.always_properties:
                raise fail(400, f"Cannot archive HubSpot-defined property {property_name}")
            del obj.properties[property_name]
            self._invalidate_caches(obj)
            return Response.empty(204)

    def _invalidate_caches(self, obj: ObjectType) -> None:
        self._stores[obj.name].cache.clear()
        self._stores[obj.name].columns.clear()

    # -- schemas (custom objects) -------------------------------------------------------
    def _schema_out(self, obj: ObjectType) -> dict[str, Any]:
        schema = copy.deepcopy(obj.schema or {})
        schema["properties"] = [self._property_out(obj, d) for d in obj.properties.values()]
        schema["associations"] = [
            {"id": str(at.type_id), "fromObjectTypeId": obj.object_type_id,
             "toObjectTypeId": self._types[at.to_type].object_type_id, "name": self._v3_type_name(at.type_id).upper(),
             "createdAt": schema.get("createdAt"), "updatedAt": schema.get("updatedAt")}
            for at in self._assoc_types.values() if at.from_type == obj.name
        ]
        return schema

    def _custom_types(self) -> list[ObjectType]:
        return [o for o in self._types.values() if o.custom]

    def create_schema(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a custom object type (the body of ``POST /crm/v3/schemas``); returns the schema."""
        with self.lock:
            name = str(body.get("name") or "").strip().lower()
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise fail(400, f"Invalid object name: {body.get('name')!r}")
            if name in self._aliases:
                raise fail(409, f"An object type with name '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
            labels = body.get("labels") or {}
            if not labels.get("singular") or not labels.get("plural"):
                raise fail(400, "labels.singular and labels.plural are required")
            type_id = f"2-{self._custom_counter}"
            self._custom_counter += 1
            fqn = f"p{self.portal_id}_{name}"
            g = f"{name}_information"
            base = [
                prop("hs_object_id", "Record ID", "number", "number", g, read_only=True),
                prop("hs_createdate", "Object create date/time", "datetime", "date", g, read_only=True),
                prop("hs_lastmodifieddate", "Object last modified date/time", "datetime", "date", g, read_only=True),
                prop("hubspot_owner_id", "Owner", "enumeration", "select", g, [], external_options=True),
            ]
            obj = ObjectType(
                name=name, singular=name, object_type_id=type_id, created_property="hs_createdate",
                cursor_property="hs_lastmodifieddate",
                default_properties=["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
                read_scopes=["crm.objects.custom.read"], write_scopes=["crm.objects.custom.write"],
                schema_read_scopes=["crm.schemas.custom.read"], schema_write_scopes=["crm.schemas.custom.write"],
                properties={p["name"]: p for p in base},
                groups=[{"name": g, "label": f"{labels['singular']} information", "displayOrder": 0, "archived": False}],
                custom=True, fully_qualified_name=fqn,
            )
            now = format_ms(self.now_ms())
            for p_body in body.get("properties") or []:
                definition = self._new_property_definition(obj, p_body, g)
                obj.properties[definition["name"]] = definition
            primary = body.get("primaryDisplayProperty")
            if primary and primary not in obj.properties:
                raise fail(400, f"primaryDisplayProperty {primary!r} is not one of the object's properties")
            for required in body.get("requiredProperties") or []:
                if required not in obj.properties:
                    raise fail(400, f"requiredProperties: {required!r} is not one of the object's properties")
            obj.schema = {
                "id": type_id.split("-")[1],
                "objectTypeId": type_id,
                "name": name,
                "fullyQualifiedName": fqn,
                "labels": {"singular": labels["singular"], "plural": labels["plural"]},
                "description": body.get("description"),
                "primaryDisplayProperty": primary,
                "secondaryDisplayProperties": list(body.get("secondaryDisplayProperties") or []),
                "requiredProperties": list(body.get("requiredProperties") or []),
                "searchableProperties": list(body.get("searchableProperties") or []),
                "archived": False,
                "createdAt": now,
                "updatedAt": now,
            }
            self._register_type(obj)
            for target in body.get("associatedObjects") or []:
                self._user_assoc_type(obj.name, self._resolve(str(target)).name)
            return self._schema_out(obj)

    def _new_property_definition(self, obj: ObjectType, body: dict[str, Any], group: str) -> dict[str, Any]:
        name, kind = body.get("name"), body.get("type")
        field_type = body.get("fieldType") or DEFAULT_FIELD_TYPES.get(kind or "")
        if not name or kind not in PROPERTY_TYPES or field_type not in FIELD_TYPES:
            raise fail(400, f"Invalid property definition: {body!r}")
        opts = _options(body.get("options"))
        definition = prop(name, body.get("label") or name, kind, field_type, body.get("groupName") or group,
                          opts or None, description=body.get("description") or "", hubspot_defined=False,
                          unique=bool(body.get("hasUniqueValue", False)))
        now = format_ms(self.now_ms())
        definition["createdAt"] = definition["updatedAt"] = now
        return definition

    @route("GET", r"/crm/v3/schemas")
    def list_schemas(self, request: Request) -> Response:
        with self.lock:
            return Response.json({"results": [self._schema_out(o) for o in self._custom_types()]})

    @route("POST", r"/crm/v3/schemas")
    def post_schema(self, request: Request) -> Response:
        return Response.json(self.create_schema(read_body(request) or {}), status=201)

    @route("GET", r"/crm/v3/schemas/(?P<object_type>[^/]+)")
    def get_schema(self, request: Request, object_type: str) -> Response:
        with self.lock:
            obj = self._resolve(object_type)
            if not obj.custom:
                raise fail(404, f"Unable to find a custom object schema for {object_type}", "OBJECT_NOT_FOUND")
            return Response.json(self._schema_out(obj))

    # The official Python client (v12) calls the same API under /crm-object-schemas/v3/schemas.
    @route("GET", r"/crm-object-schemas/v3/schemas")
    def list_schemas_alias(self, request: Request) -> Response:
        return self.list_schemas(request)

    @route("POST", r"/crm-object-schemas/v3/schemas")
    def post_schema_alias(self, request: Request) -> Response:
        return self.post_schema(request)

    @route("GET", r"/crm-object-schemas/v3/schemas/(?P<object_type>[^/]+)")
    def get_schema_alias(self, request: Request, object_type: str) -> Response:
        return self.get_schema(request, object_type)
