"""HubSpot object catalog and Spark schemas.

* :data:`STANDARD_OBJECTS`: the standard CRM tables, their cursor property and default
  association columns.
* :func:`object_schema`: the Spark schema of a CRM object from its property definitions
  (``GET /crm/v3/properties/{objectType}``): envelope fields plus a ``properties`` struct
  (one typed field per property, sorted by name) and an ``associations`` struct (one
  ``array<string>`` of associated ids per association type).
* :data:`OWNERS_SCHEMA`: the fixed schema of ``GET /crm/v3/owners``.

Type mapping (HubSpot property ``type`` → Spark): ``number`` → ``decimal(38,18)`` (exact:
``"1234.56"`` stays 1234.56), ``bool`` → boolean, ``date`` → date, ``datetime`` → timestamp,
everything else (``string``, ``enumeration``, ``phone_number``, ``json``,
``object_coordinates``, unknown types) → string.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import DataType, DecimalType, StructField, StructType

from sources.toolkit.schema import BOOLEAN as B, DATE, LONG as L, STRING as S, TIMESTAMP as T, array_of, struct

NUMBER_TYPE = DecimalType(38, 18)

_TYPES: dict[str, DataType] = {"number": NUMBER_TYPE, "bool": B, "date": DATE, "datetime": T}


def spark_type(hubspot_type: str | None) -> DataType:
    """The Spark type of a HubSpot property type (strings for anything not numeric/temporal/bool)."""
    return _TYPES.get(str(hubspot_type or "").lower(), S)


@dataclass(frozen=True)
class ObjectSpec:
    """One CRM table: its name, the ``objectType`` used in paths, its cursor property."""

    table: str
    object_type: str
    cursor_property: str = "hs_lastmodifieddate"
    default_associations: tuple[str, ...] = ()
    custom: bool = False
    owners: bool = False


_ENGAGEMENT_ASSOCIATIONS = ("contacts", "companies", "deals", "tickets")

STANDARD_OBJECTS: dict[str, ObjectSpec] = {
    spec.table: spec
    for spec in [
        ObjectSpec("contacts", "contacts", "lastmodifieddate", ("companies", "deals", "tickets")),
        ObjectSpec("companies", "companies", "hs_lastmodifieddate", ("contacts", "deals", "tickets")),
        ObjectSpec("deals", "deals", "hs_lastmodifieddate", ("contacts", "companies", "line_items")),
        ObjectSpec("tickets", "tickets", "hs_lastmodifieddate", ("contacts", "companies", "deals")),
        ObjectSpec("products", "products", "hs_lastmodifieddate", ()),
        ObjectSpec("line_items", "line_items", "hs_lastmodifieddate", ("deals",)),
        ObjectSpec("calls", "calls", "hs_lastmodifieddate", _ENGAGEMENT_ASSOCIATIONS),
        ObjectSpec("emails", "emails", "hs_lastmodifieddate", _ENGAGEMENT_ASSOCIATIONS),
        ObjectSpec("meetings", "meetings", "hs_lastmodifieddate", _ENGAGEMENT_ASSOCIATIONS),
        ObjectSpec("notes", "notes", "hs_lastmodifieddate", _ENGAGEMENT_ASSOCIATIONS),
        ObjectSpec("tasks", "tasks", "hs_lastmodifieddate", _ENGAGEMENT_ASSOCIATIONS),
    ]
}

OWNERS = ObjectSpec("owners", "owners", cursor_property="", owners=True)

#: Object type ids of the standard objects (used to name custom objects' association targets).
STANDARD_TYPE_IDS = {
    "0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets", "0-7": "products",
    "0-8": "line_items", "0-48": "calls", "0-49": "emails", "0-47": "meetings", "0-46": "notes",
    "0-27": "tasks",
}


#: The primary key, never null (every other field is nullable).
_ID = StructField("id", S, False)
_ENVELOPE = struct(createdAt=T, updatedAt=T, archived=B, archivedAt=T).fields


def object_schema(property_types: dict[str, str], associations: list[str]) -> StructType:
    """The schema of a CRM object given ``{property name: HubSpot type}`` and the association
    columns. Property fields are sorted by name so the schema is deterministic."""
    properties = struct(**{name: spark_type(property_types[name]) for name in sorted(property_types)})
    fields = [_ID, StructField("properties", properties, True)]
    if associations:
        fields.append(StructField("associations", StructType([StructField(a, array_of(S), True) for a in associations])))
    return StructType([*fields, *_ENVELOPE])


OWNERS_SCHEMA = StructType([_ID, *struct(
    email=S, firstName=S, lastName=S, userId=L, userIdIncludingInactive=L, type=S, createdAt=T, updatedAt=T,
    archived=B, teams=array_of(struct(id=S, name=S, primary=B))).fields])
