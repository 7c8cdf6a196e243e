"""Static catalog of the HubSpot CRM sandbox: object types, their default properties,
required scopes and the HubSpot-defined association types.

Property names, types and option values follow HubSpot's documented defaults; the set is a
realistic subset (HubSpot portals carry hundreds of properties per object), not a full copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

# A fixed instant used as createdAt/updatedAt of HubSpot-defined property definitions.
DEFINITION_TIME = "2019-08-06T02:43:14.491Z"

# type -> default fieldType when a caller gives none
DEFAULT_FIELD_TYPES = {
    "string": "text",
    "number": "number",
    "date": "date",
    "datetime": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
    "phone_number": "phonenumber",
    "json": "text",
    "object_coordinates": "text",
}
PROPERTY_TYPES = frozenset(DEFAULT_FIELD_TYPES)
FIELD_TYPES = frozenset(
    {"textarea", "text", "date", "file", "number", "select", "radio", "checkbox",
     "booleancheckbox", "calculation_equation", "phonenumber", "html"}
)


def options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(pairs)
    ]


BOOL_OPTIONS = options(("true", "Yes"), ("false", "No"))


def prop(
    name: str,
    label: str,
    type: str,
    field_type: str | None = None,
    group: str = "",
    opts: list[dict[str, Any]] | None = None,
    *,
    description: str = "",
    hubspot_defined: bool = True,
    calculated: bool = False,
    read_only: bool = False,
    unique: bool = False,
    external_options: bool = False,
    display_order: int = -1,
    form_field: bool | None = None,
) -> dict[str, Any]:
    """One property definition in the shape of ``GET /crm/v3/properties/{objectType}``."""
    if opts is None:
        opts = copy.deepcopy(BOOL_OPTIONS) if type == "bool" else []
    return {
        "updatedAt": DEFINITION_TIME,
        "createdAt": DEFINITION_TIME,
        "name": name,
        "label": label,
        "type": type,
        "fieldType": field_type or DEFAULT_FIELD_TYPES[type],
        "description": description or f"{label}.",
        "groupName": group,
        "options": opts,
        "displayOrder": display_order,
        "calculated": calculated,
        "externalOptions": external_options,
        "hasUniqueValue": unique,
        "hidden": False,
        "hubspotDefined": hubspot_defined,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
        "formField": (not read_only and not calculated) if form_field is None else form_field,
    }


# -- option sets ---------------------------------------------------------------------------
LIFECYCLE_STAGES = options(
    ("subscriber", "Subscriber"), ("lead", "Lead"), ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"), ("opportunity", "Opportunity"), ("customer", "Customer"),
    ("evangelist", "Evangelist"), ("other", "Other"),
)
LEAD_STATUSES = options(
    ("NEW", "New"), ("OPEN", "Open"), ("IN_PROGRESS", "In Progress"), ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"), ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"), ("BAD_TIMING", "Bad Timing"),
)
INDUSTRIES = options(
    ("COMPUTER_SOFTWARE", "Computer Software"), ("INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"),
    ("FINANCIAL_SERVICES", "Financial Services"), ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
    ("RETAIL", "Retail"), ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"),
    ("CONSTRUCTION", "Construction"), ("EDUCATION_MANAGEMENT", "Education Management"),
    ("TELECOMMUNICATIONS", "Telecommunications"), ("FOOD_BEVERAGES", "Food & Beverages"),
)
COMPANY_TYPES = options(("PROSPECT", "Prospect"), ("PARTNER", "Partner"), ("RESELLER", "Reseller"),
                        ("VENDOR", "Vendor"), ("OTHER", "Other"))
DEAL_STAGES = options(
    ("appointmentscheduled", "Appointment Scheduled"), ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"), ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"), ("closedwon", "Closed Won"), ("closedlost", "Closed Lost"),
)
DEAL_PIPELINES = options(("default", "Sales Pipeline"))
DEAL_TYPES = options(("newbusiness", "New Business"), ("existingbusiness", "Existing Business"))
TICKET_PIPELINES = options(("0", "Support Pipeline"))
TICKET_STAGES = options(("1", "New"), ("2", "Waiting on contact"), ("3", "Waiting on us"), ("4", "Closed"))
TICKET_PRIORITIES = options(("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High"), ("URGENT", "Urgent"))
TICKET_CATEGORIES = options(("PRODUCT_ISSUE", "Product issue"), ("BILLING_ISSUE", "Billing issue"),
                            ("FEATURE_REQUEST", "Feature request"), ("GENERAL_INQUIRY", "General inquiry"))
CALL_DIRECTIONS = options(("INBOUND", "Inbound"), ("OUTBOUND", "Outbound"))
CALL_STATUSES = options(("COMPLETED", "Completed"), ("BUSY", "Busy"), ("NO_ANSWER", "No answer"),
                        ("FAILED", "Failed"), ("CANCELED", "Canceled"))
EMAIL_DIRECTIONS = options(("EMAIL", "Sent by owner"), ("INCOMING_EMAIL", "Reply from contact"),
                           ("FORWARDED_EMAIL", "Forwarded"))
EMAIL_STATUSES = options(("SENT", "Sent"), ("SCHEDULED", "Scheduled"), ("BOUNCED", "Bounced"), ("FAILED", "Failed"))
MEETING_OUTCOMES = options(("SCHEDULED", "Scheduled"), ("COMPLETED", "Completed"), ("RESCHEDULED", "Rescheduled"),
                           ("NO_SHOW", "No show"), ("CANCELED", "Canceled"))
TASK_STATUSES = options(("NOT_STARTED", "Not started"), ("IN_PROGRESS", "In progress"), ("WAITING", "Waiting"),
                        ("COMPLETED", "Completed"), ("DEFERRED", "Deferred"))
TASK_PRIORITIES = options(("NONE", "None"), ("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High"))
TASK_TYPES = options(("CALL", "Call"), ("EMAIL", "Email"), ("TODO", "To-do"))
RECURRING_PERIODS = options(("P1M", "Monthly"), ("P3M", "Quarterly"), ("P12M", "Annually"))


def _owner_prop(group: str) -> dict[str, Any]:
    return prop("hubspot_owner_id", "Owner", "enumeration", "select", group, [],
                external_options=True, description="The owner of the object.")


def _base(created: str, modified: str, group: str) -> list[dict[str, Any]]:
    return [
        prop("hs_object_id", "Record ID", "number", "number", group, read_only=True,
             description="The unique ID for this record. This value is set automatically by HubSpot."),
        prop(created, "Create Date", "datetime", "date", group, read_only=True,
             description="The date the record was created."),
        prop(modified, "Last Modified Date", "datetime", "date", group, read_only=True, calculated=False,
             description="Most recent timestamp of any property update for this record."),
    ]


def _contacts() -> list[dict[str, Any]]:
    g = "contactinformation"
    return _base("createdate", "lastmodifieddate", g) + [
        prop("email", "Email", "string", "text", g, description="A contact's email address."),
        prop("firstname", "First Name", "string", "text", g),
        prop("lastname", "Last Name", "string", "text", g),
        prop("phone", "Phone Number", "string", "phonenumber", g),
        prop("mobilephone", "Mobile Phone Number", "string", "phonenumber", g),
        prop("hs_whatsapp_phone_number", "WhatsApp Phone Number", "phone_number", "phonenumber", g),
        prop("company", "Company Name", "string", "text", g),
        prop("jobtitle", "Job Title", "string", "text", g),
        prop("website", "Website URL", "string", "text", g),
        prop("city", "City", "string", "text", g),
        prop("state", "State/Region", "string", "text", g),
        prop("country", "Country/Region", "string", "text", g),
        prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", g, copy.deepcopy(LIFECYCLE_STAGES)),
        prop("hs_lead_status", "Lead Status", "enumeration", "radio", g, copy.deepcopy(LEAD_STATUSES)),
        prop("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox", g),
        prop("num_associated_deals", "Associated Deals", "number", "number", g, calculated=True, read_only=True),
        # A portal-defined date property (date-of-birth is a common custom contact field).
        prop("date_of_birth", "Date of birth", "date", "date", g, hubspot_defined=False),
        _owner_prop(g),
    ]


def _companies() -> list[dict[str, Any]]:
    g = "companyinformation"
    return _base("createdate", "hs_lastmodifieddate", g) + [
        prop("name", "Company name", "string", "text", g),
        prop("domain", "Company Domain Name", "string", "text", g),
        prop("industry", "Industry", "enumeration", "select", g, copy.deepcopy(INDUSTRIES)),
        prop("type", "Type", "enumeration", "select", g, copy.deepcopy(COMPANY_TYPES)),
        prop("phone", "Phone Number", "string", "phonenumber", g),
        prop("city", "City", "string", "text", g),
        prop("country", "Country/Region", "string", "text", g),
        prop("annualrevenue", "Annual Revenue", "number", "number", g),
        prop("numberofemployees", "Number of Employees", "number", "number", g),
        prop("is_public", "Is Public", "bool", "booleancheckbox", g),
        prop("description", "Description", "string", "textarea", g),
        prop("founded_year", "Year Founded", "string", "text", g),
        prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", g, copy.deepcopy(LIFECYCLE_STAGES)),
        _owner_prop(g),
    ]


def _deals() -> list[dict[str, Any]]:
    g = "dealinformation"
    return _base("createdate", "hs_lastmodifieddate", g) + [
        prop("dealname", "Deal Name", "string", "text", g),
        prop("amount", "Amount", "number", "number", g),
        prop("dealstage", "Deal Stage", "enumeration", "radio", g, copy.deepcopy(DEAL_STAGES)),
        prop("pipeline", "Pipeline", "enumeration", "select", g, copy.deepcopy(DEAL_PIPELINES)),
        prop("closedate", "Close Date", "datetime", "date", g),
        prop("dealtype", "Deal Type", "enumeration", "radio", g, copy.deepcopy(DEAL_TYPES)),
        prop("description", "Deal Description", "string", "textarea", g),
        prop("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", g, calculated=True, read_only=True),
        prop("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", g, calculated=True, read_only=True),
        prop("hs_deal_stage_probability", "Deal probability", "number", "number", g, calculated=True, read_only=True),
        _owner_prop(g),
    ]


def _tickets() -> list[dict[str, Any]]:
    g = "ticketinformation"
    return _base("createdate", "hs_lastmodifieddate", g) + [
        prop("subject", "Ticket name", "string", "text", g),
        prop("content", "Ticket description", "string", "textarea", g),
        prop("hs_pipeline", "Pipeline", "enumeration", "select", g, copy.deepcopy(TICKET_PIPELINES)),
        prop("hs_pipeline_stage", "Ticket status", "enumeration", "select", g, copy.deepcopy(TICKET_STAGES)),
        prop("hs_ticket_priority", "Priority", "enumeration", "select", g, copy.deepcopy(TICKET_PRIORITIES)),
        prop("hs_ticket_category", "Category", "enumeration", "checkbox", g, copy.deepcopy(TICKET_CATEGORIES)),
        prop("closed_date", "Close date", "datetime", "date", g),
        _owner_prop(g),
    ]


def _products() -> list[dict[str, Any]]:
    g = "productinformation"
    return _base("createdate", "hs_lastmodifieddate", g) + [
        prop("name", "Name", "string", "text", g),
        prop("description", "Description", "string", "textarea", g),
        prop("price", "Unit price", "number", "number", g),
        prop("hs_sku", "SKU", "string", "text", g),
        prop("hs_cost_of_goods_sold", "Unit cost", "number", "number", g),
        prop("hs_recurring_billing_period", "Term", "string", "text", g),
    ]


def _line_items() -> list[dict[str, Any]]:
    g = "lineiteminformation"
    return _base("createdate", "hs_lastmodifieddate", g) + [
        prop("name", "Name", "string", "text", g),
        prop("quantity", "Quantity", "number", "number", g),
        prop("price", "Unit price", "number", "number", g),
        prop("amount", "Net price", "number", "number", g, calculated=True, read_only=True),
        prop("hs_product_id", "Product ID", "number", "number", g),
        prop("hs_sku", "SKU", "string", "text", g),
        prop("discount", "Unit discount", "number", "number", g),
        prop("hs_recurring_billing_start_date", "Billing start date", "date", "date", g),
        prop("recurringbillingfrequency", "Billing frequency", "enumeration", "select", g, copy.deepcopy(RECURRING_PERIODS)),
    ]


def _engagement(extra: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    return _base("hs_createdate", "hs_lastmodifieddate", group) + [
        prop("hs_timestamp", "Activity date", "datetime", "date", group),
        _owner_prop(group),
    ] + extra


def _calls() -> list[dict[str, Any]]:
    g = "callinformation"
    return _engagement([
        prop("hs_call_title", "Call Title", "string", "text", g),
        prop("hs_call_body", "Call notes", "string", "textarea", g),
        prop("hs_call_duration", "Call duration", "number", "number", g, description="Duration in milliseconds."),
        prop("hs_call_direction", "Call direction", "enumeration", "select", g, copy.deepcopy(CALL_DIRECTIONS)),
        prop("hs_call_status", "Call status", "enumeration", "select", g, copy.deepcopy(CALL_STATUSES)),
        prop("hs_call_to_number", "To number", "string", "phonenumber", g),
        prop("hs_call_from_number", "From number", "string", "phonenumber", g),
    ], g)


def _emails() -> list[dict[str, Any]]:
    g = "emailinformation"
    return _engagement([
        prop("hs_email_subject", "Email subject", "string", "text", g),
        prop("hs_email_text", "Email body", "string", "textarea", g),
        prop("hs_email_direction", "Email direction", "enumeration", "select", g, copy.deepcopy(EMAIL_DIRECTIONS)),
        prop("hs_email_status", "Email send status", "enumeration", "select", g, copy.deepcopy(EMAIL_STATUSES)),
    ], g)


def _meetings() -> list[dict[str, Any]]:
    g = "meetinginformation"
    return _engagement([
        prop("hs_meeting_title", "Meeting name", "string", "text", g),
        prop("hs_meeting_body", "Meeting description", "string", "textarea", g),
        prop("hs_meeting_start_time", "Start time", "datetime", "date", g),
        prop("hs_meeting_end_time", "End time", "datetime", "date", g),
        prop("hs_meeting_location", "Location", "string", "text", g),
        prop("hs_meeting_outcome", "Meeting outcome", "enumeration", "select", g, copy.deepcopy(MEETING_OUTCOMES)),
    ], g)


def _notes() -> list[dict[str, Any]]:
    g = "noteinformation"
    return _engagement([prop("hs_note_body", "Note body", "string", "textarea", g)], g)


def _tasks() -> list[dict[str, Any]]:
    g = "taskinformation"
    return _engagement([
        prop("hs_task_subject", "Task title", "string", "text", g),
        prop("hs_task_body", "Task notes", "string", "textarea", g),
        prop("hs_task_status", "Task status", "enumeration", "select", g, copy.deepcopy(TASK_STATUSES)),
        prop("hs_task_priority", "Priority", "enumeration", "select", g, copy.deepcopy(TASK_PRIORITIES)),
        prop("hs_task_type", "Task type", "enumeration", "select", g, copy.deepcopy(TASK_TYPES)),
        prop("hs_task_completion_date", "Completed at", "datetime", "date", g),
    ], g)


@dataclass
class ObjectType:
    """One CRM object type: names, ids, cursor, defaults and scopes."""

    name: str                       # "contacts", "line_items", or a custom object's name
    singular: str                   # "contact": used in v3 association type names
    object_type_id: str             # "0-1", "2-10001"
    created_property: str           # "createdate" or "hs_createdate"
    cursor_property: str            # "lastmodifieddate" or "hs_lastmodifieddate"
    default_properties: list[str]
    read_scopes: list[str]
    write_scopes: list[str]
    schema_read_scopes: list[str]
    schema_write_scopes: list[str]
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    custom: bool = False
    fully_qualified_name: str | None = None
    schema: dict[str, Any] | None = None   # custom objects only

    @property
    def always_properties(self) -> list[str]:
        """Properties HubSpot returns on every record even when not requested."""
        return [self.created_property, "hs_object_id", self.cursor_property]

    def aliases(self) -> list[str]:
        out = [self.name, self.object_type_id]
        if self.fully_qualified_name:
            out.append(self.fully_qualified_name)
        return out


def _scopes(read: list[str], write: list[str], schema_read: list[str], schema_write: list[str]) -> dict[str, list[str]]:
    return {"read_scopes": read, "write_scopes": write, "schema_read_scopes": schema_read,
            "schema_write_scopes": schema_write}


def _crm_scopes(name: str) -> dict[str, list[str]]:
    return _scopes([f"crm.objects.{name}.read"], [f"crm.objects.{name}.write"],
                   [f"crm.schemas.{name}.read"], [f"crm.schemas.{name}.write"])


ENGAGEMENT_SCOPES = _scopes(["crm.objects.contacts.read"], ["crm.objects.contacts.write"],
                            ["crm.objects.contacts.read", "crm.schemas.contacts.read"],
                            ["crm.schemas.contacts.write"])

_GROUP_LABELS = {
    "contactinformation": "Contact information", "companyinformation": "Company information",
    "dealinformation": "Deal information", "ticketinformation": "Ticket information",
    "productinformation": "Product information", "lineiteminformation": "Line item information",
    "callinformation": "Call information", "emailinformation": "Email information",
    "meetinginformation": "Meeting information", "noteinformation": "Note information",
    "taskinformation": "Task information",
}


def standard_object_types() -> dict[str, ObjectType]:
    """Fresh (mutable) definitions of every standard object type, keyed by name."""
    specs = [
        ("contacts", "contact", "0-1", "createdate", "lastmodifieddate",
         ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
         _crm_scopes("contacts"), _contacts),
        ("companies", "company", "0-2", "createdate", "hs_lastmodifieddate",
         ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
         _crm_scopes("companies"), _companies),
        ("deals", "deal", "0-3", "createdate", "hs_lastmodifieddate",
         ["amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"],
         _crm_scopes("deals"), _deals),
        ("tickets", "ticket", "0-5", "createdate", "hs_lastmodifieddate",
         ["content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline", "hs_pipeline_stage",
          "hs_ticket_category", "hs_ticket_priority", "subject"],
         _scopes(["tickets"], ["tickets"], ["tickets"], ["tickets"]), _tickets),
        ("products", "product", "0-7", "createdate", "hs_lastmodifieddate",
         ["createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"],
         _scopes(["e-commerce", "crm.objects.products.read"], ["e-commerce", "crm.objects.products.write"],
                 ["e-commerce"], ["e-commerce"]), _products),
        ("line_items", "line_item", "0-8", "createdate", "hs_lastmodifieddate",
         ["amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "price", "quantity"],
         _scopes(["crm.objects.line_items.read", "e-commerce"], ["crm.objects.line_items.write", "e-commerce"],
                 ["e-commerce"], ["e-commerce"]), _line_items),
        ("calls", "call", "0-48", "hs_createdate", "hs_lastmodifieddate",
         ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"], ENGAGEMENT_SCOPES, _calls),
        ("emails", "email", "0-49", "hs_createdate", "hs_lastmodifieddate",
         ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"], ENGAGEMENT_SCOPES, _emails),
        ("meetings", "meeting", "0-47", "hs_createdate", "hs_lastmodifieddate",
         ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"], ENGAGEMENT_SCOPES, _meetings),
        ("notes", "note", "0-46", "hs_createdate", "hs_lastmodifieddate",
         ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"], ENGAGEMENT_SCOPES, _notes),
        ("tasks", "task", "0-27", "hs_createdate", "hs_lastmodifieddate",
         ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"], ENGAGEMENT_SCOPES, _tasks),
    ]
    out: dict[str, ObjectType] = {}
    for name, singular, type_id, created, cursor, defaults, scopes, build in specs:
        props = build()
        for i, p in enumerate(props):
            p["displayOrder"] = i
        group_names = list(dict.fromkeys(p["groupName"] for p in props))
        out[name] = ObjectType(
            name=name, singular=singular, object_type_id=type_id, created_property=created,
            cursor_property=cursor, default_properties=defaults,
            properties={p["name"]: p for p in props},
            groups=[{"name": g, "label": _GROUP_LABELS.get(g, g), "displayOrder": i, "archived": False}
                    for i, g in enumerate(group_names)],
            **copy.deepcopy(scopes),
        )
    return out


# -- associations --------------------------------------------------------------------------
# (from, to, typeId, label) for HUBSPOT_DEFINED types; INVERSE pairs each id with the id of
# the same association seen from the other side.
_PAIRS: list[tuple[str, str, int, int, str | None]] = [
    # from, to, typeId, inverse typeId, label (None = unlabeled)
    ("contacts", "companies", 279, 280, None),
    ("contacts", "companies", 1, 2, "Primary"),
    ("deals", "contacts", 3, 4, None),
    ("deals", "companies", 341, 342, None),
    ("deals", "companies", 5, 6, "Primary"),
    ("contacts", "tickets", 15, 16, None),
    ("tickets", "companies", 339, 340, None),
    ("tickets", "companies", 26, 25, "Primary"),
    ("deals", "tickets", 27, 28, None),
    ("deals", "line_items", 19, 20, None),
    ("contacts", "calls", 193, 194, None),
    ("companies", "calls", 181, 182, None),
    ("deals", "calls", 205, 206, None),
    ("tickets", "calls", 219, 220, None),
    ("contacts", "emails", 197, 198, None),
    ("companies", "emails", 185, 186, None),
    ("deals", "emails", 209, 210, None),
    ("tickets", "emails", 223, 224, None),
    ("contacts", "meetings", 199, 200, None),
    ("companies", "meetings", 187, 188, None),
    ("deals", "meetings", 211, 212, None),
    ("tickets", "meetings", 225, 226, None),
    ("contacts", "notes", 201, 202, None),
    ("companies", "notes", 189, 190, None),
    ("deals", "notes", 213, 214, None),
    ("tickets", "notes", 227, 228, None),
    ("contacts", "tasks", 203, 204, None),
    ("companies", "tasks", 191, 192, None),
    ("deals", "tasks", 215, 216, None),
    ("tickets", "tasks", 229, 230, None),
]


@dataclass(frozen=True)
class AssociationType:
    from_type: str
    to_type: str
    type_id: int
    inverse_id: int
    label: str | None
    category: str = "HUBSPOT_DEFINED"
    is_default: bool = False     # the unlabeled type used by the "default" association endpoints


def hubspot_defined_association_types() -> list[AssociationType]:
    out: list[AssociationType] = []
    unlabeled_pairs = {(f, t) for f, t, _, _, label in _PAIRS if label is None}
    for f, t, tid, inv, label in _PAIRS:
        default = label is None and (f, t) in unlabeled_pairs
        out.append(AssociationType(f, t, tid, inv, label, "HUBSPOT_DEFINED", default))
        out.append(AssociationType(t, f, inv, tid, label, "HUBSPOT_DEFINED", default))
    return out
