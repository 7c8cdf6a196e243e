"""Deterministic, realistic property values for seeded sandbox records."""

from __future__ import annotations

import random
from typing import Any, Callable

from sources.hubspot.sandbox.catalog import ObjectType
from sources.hubspot.sandbox.values import format_date, format_ms

FIRST_NAMES = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger",
               "Radia", "Tim", "Shafi", "Donald", "Hedy", "John", "Katherine", "Guido", "Sophie", "Yukihiro",
               "Anita", "Bjarne", "Joan", "Niklaus", "Mary", "Leslie", "Karen", "James", "Lucia", "Omar"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
              "Dijkstra", "Perlman", "Berners-Lee", "Goldwasser", "Knuth", "Lamarr", "McCarthy", "Johnson",
              "van Rossum", "Wilson", "Matsumoto", "Borg", "Stroustrup", "Clarke", "Wirth", "Keller", "Lamport",
              "Spärck Jones", "Gosling", "O'Neil", "Haddad"]
COMPANY_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
                 "Cyberdyne", "Soylent", "Wonka", "Aperture", "Massive", "Dynamic", "Northwind", "Contoso",
                 "Fabrikam", "Blue Sky", "Red Rock"]
COMPANY_SUFFIXES = ["Inc.", "LLC", "Corp", "GmbH", "Ltd", "Group", "Labs", "Systems", "Partners", "& Co"]
CITIES = [("Boston", "MA", "United States"), ("Cambridge", "MA", "United States"), ("Austin", "TX", "United States"),
          ("Dublin", "", "Ireland"), ("Berlin", "", "Germany"), ("Paris", "", "France"), ("Tokyo", "", "Japan"),
          ("Sydney", "NSW", "Australia"), ("Toronto", "ON", "Canada"), ("São Paulo", "SP", "Brazil")]
JOB_TITLES = ["CEO", "CTO", "VP Sales", "Marketing Manager", "Data Engineer", "Account Executive",
              "Head of Operations", "Product Manager", "Software Engineer", "Customer Success Lead"]
PRODUCTS = ["Starter Plan", "Professional Plan", "Enterprise Plan", "Onboarding Package", "Premium Support",
            "Extra Seats", "Data Add-on", "Training Day", "API Access", "Consulting Hour"]
WORDS = ["quarterly", "review", "pricing", "renewal", "follow-up", "demo", "contract", "integration", "budget",
         "kickoff", "roadmap", "migration", "invoice", "feedback", "proposal", "security", "questionnaire",
         "onboarding", "escalation", "discount"]

# Seeded timestamps fall in [SEED_START, SEED_END): deterministic, and always in the past.
SEED_START = 1_704_067_200_000   # 2024-01-01T00:00:00Z
SEED_END = 1_735_689_600_000     # 2025-01-01T00:00:00Z
DAY = 86_400_000


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high)}.{rng.randint(0, 99):02d}"


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(200, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def _company_name(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"


def _domain(name: str) -> str:
    base = "".join(ch for ch in name.split(" ")[0].lower() if ch.isalnum())
    return f"{base}.example.com"


def _when(rng: random.Random) -> int:
    return rng.randrange(SEED_START, SEED_END)


def _option(definition: dict[str, Any], rng: random.Random) -> str:
    values = [o["value"] for o in definition.get("options", [])]
    return rng.choice(values) if values else ""


def generic_value(definition: dict[str, Any], rng: random.Random, index: int) -> str | None:
    kind = definition["type"]
    if kind == "number":
        return _money(rng, 1, 10_000) if rng.random() < 0.5 else str(rng.randint(0, 10_000))
    if kind == "bool":
        return "true" if rng.random() < 0.5 else "false"
    if kind == "datetime":
        return format_ms(_when(rng))
    if kind == "date":
        return format_date(_when(rng) // DAY * DAY)
    if kind == "enumeration":
        return _option(definition, rng)
    if kind == "phone_number":
        return _phone(rng)
    name = definition["name"]
    if "name" in name:
        return f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {index}"
    return _sentence(rng, 4)


def _maybe(rng: random.Random, value: Any, p_null: float = 0.1, p_empty: float = 0.0) -> Any:
    roll = rng.random()
    if roll < p_null:
        return None
    if roll < p_null + p_empty:
        return ""
    return value


def contact_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = _company_name(rng)
    city, state, country = rng.choice(CITIES)
    local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == "."))
    birth = SEED_START - rng.randrange(18 * 365, 70 * 365) * DAY
    return {
        "email": f"{local}{i}@{_domain(company)}",
        "firstname": first,
        "lastname": last,
        "phone": _maybe(rng, _phone(rng), 0.2),
        "mobilephone": _maybe(rng, _phone(rng), 0.4, 0.1),
        "hs_whatsapp_phone_number": _maybe(rng, _phone(rng), 0.7),
        "company": company,
        "jobtitle": _maybe(rng, rng.choice(JOB_TITLES), 0.2, 0.05),
        "website": _maybe(rng, "https://www." + _domain(company), 0.3),
        "city": city,
        "state": state,
        "country": country,
        "lifecyclestage": _option(obj.properties["lifecyclestage"], rng),
        "hs_lead_status": _maybe(rng, _option(obj.properties["hs_lead_status"], rng), 0.3),
        "hs_email_optout": "true" if rng.random() < 0.1 else "false",
        "date_of_birth": _maybe(rng, format_date(birth), 0.5),
        "hubspot_owner_id": rng.choice(owners) if owners and rng.random() < 0.8 else None,
    }


def company_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    name = _company_name(rng)
    city, _, country = rng.choice(CITIES)
    return {
        "name": name,
        "domain": _domain(name).replace(".example.com", f"{i}.example.com"),
        "industry": _option(obj.properties["industry"], rng),
        "type": _maybe(rng, _option(obj.properties["type"], rng), 0.3),
        "phone": _maybe(rng, _phone(rng), 0.2),
        "city": city,
        "country": country,
        "annualrevenue": _maybe(rng, str(rng.randint(10, 5000) * 10_000), 0.2),
        "numberofemployees": str(rng.randint(1, 20_000)),
        "is_public": "true" if rng.random() < 0.2 else "false",
        "description": _maybe(rng, _sentence(rng, 8), 0.3, 0.1),
        "founded_year": str(rng.randint(1950, 2023)),
        "lifecyclestage": _option(obj.properties["lifecyclestage"], rng),
        "hubspot_owner_id": rng.choice(owners) if owners else None,
    }


def deal_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    stage = _option(obj.properties["dealstage"], rng)
    closed = stage in ("closedwon", "closedlost")
    probability = {"appointmentscheduled": "0.2", "qualifiedtobuy": "0.4", "presentationscheduled": "0.6",
                   "decisionmakerboughtin": "0.8", "contractsent": "0.9", "closedwon": "1", "closedlost": "0"}
    return {
        "dealname": f"{_company_name(rng)} - {rng.choice(PRODUCTS)}",
        "amount": _maybe(rng, _money(rng, 500, 250_000), 0.1),
        "dealstage": stage,
        "pipeline": "default",
        "closedate": format_ms(_when(rng)),
        "dealtype": _maybe(rng, _option(obj.properties["dealtype"], rng), 0.3),
        "description": _maybe(rng, _sentence(rng, 6), 0.4, 0.1),
        "hs_is_closed": "true" if closed else "false",
        "hs_is_closed_won": "true" if stage == "closedwon" else "false",
        "hs_deal_stage_probability": probability[stage],
        "hubspot_owner_id": rng.choice(owners) if owners else None,
    }


def ticket_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    stage = _option(obj.properties["hs_pipeline_stage"], rng)
    return {
        "subject": f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} issue #{i}",
        "content": _maybe(rng, _sentence(rng, 10), 0.1, 0.1),
        "hs_pipeline": "0",
        "hs_pipeline_stage": stage,
        "hs_ticket_priority": _option(obj.properties["hs_ticket_priority"], rng),
        "hs_ticket_category": _maybe(rng, _option(obj.properties["hs_ticket_category"], rng), 0.3),
        "closed_date": format_ms(_when(rng)) if stage == "4" else None,
        "hubspot_owner_id": rng.choice(owners) if owners and rng.random() < 0.7 else None,
    }


def product_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    name = rng.choice(PRODUCTS)
    price = _money(rng, 10, 5000)
    return {
        "name": f"{name} {i}",
        "description": _maybe(rng, _sentence(rng, 6), 0.2),
        "price": price,
        "hs_sku": f"SKU-{i:05d}",
        "hs_cost_of_goods_sold": _maybe(rng, _money(rng, 1, 9), 0.5),
        "hs_recurring_billing_period": _maybe(rng, rng.choice(["P1M", "P12M"]), 0.5),
    }


def line_item_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    quantity = rng.randint(1, 20)
    cents = rng.randint(1000, 500_000)
    start = _when(rng) // DAY * DAY
    return {
        "name": rng.choice(PRODUCTS),
        "quantity": str(quantity),
        "price": f"{cents // 100}.{cents % 100:02d}",
        "amount": f"{quantity * cents // 100}.{quantity * cents % 100:02d}",
        "hs_product_id": None,
        "hs_sku": _maybe(rng, f"SKU-{rng.randint(0, 999):05d}", 0.3),
        "discount": _maybe(rng, str(rng.randint(0, 50)), 0.7),
        "hs_recurring_billing_start_date": _maybe(rng, format_date(start), 0.5),
        "recurringbillingfrequency": _maybe(rng, _option(obj.properties["recurringbillingfrequency"], rng), 0.5),
    }


def _engagement_common(rng: random.Random, owners: list[str]) -> dict[str, Any]:
    return {"hs_timestamp": format_ms(_when(rng)),
            "hubspot_owner_id": rng.choice(owners) if owners else None}


def call_values(obj, rng, i, owners):
    return {**_engagement_common(rng, owners),
            "hs_call_title": f"Call about {rng.choice(WORDS)}",
            "hs_call_body": _maybe(rng, _sentence(rng, 8), 0.2, 0.1),
            "hs_call_duration": str(rng.randint(0, 3_600_000)),
            "hs_call_direction": _option(obj.properties["hs_call_direction"], rng),
            "hs_call_status": _option(obj.properties["hs_call_status"], rng),
            "hs_call_to_number": _phone(rng),
            "hs_call_from_number": _phone(rng)}


def email_values(obj, rng, i, owners):
    return {**_engagement_common(rng, owners),
            "hs_email_subject": f"Re: {rng.choice(WORDS)} {rng.choice(WORDS)}",
            "hs_email_text": _sentence(rng, 12),
            "hs_email_direction": _option(obj.properties["hs_email_direction"], rng),
            "hs_email_status": _option(obj.properties["hs_email_status"], rng)}


def meeting_values(obj, rng, i, owners):
    start = _when(rng)
    return {**_engagement_common(rng, owners),
            "hs_meeting_title": f"{rng.choice(WORDS).capitalize()} meeting",
            "hs_meeting_body": _maybe(rng, _sentence(rng, 8), 0.3),
            "hs_meeting_start_time": format_ms(start),
            "hs_meeting_end_time": format_ms(start + rng.choice([15, 30, 45, 60]) * 60_000),
            "hs_meeting_location": _maybe(rng, rng.choice(CITIES)[0], 0.5),
            "hs_meeting_outcome": _option(obj.properties["hs_meeting_outcome"], rng)}


def note_values(obj, rng, i, owners):
    return {**_engagement_common(rng, owners), "hs_note_body": f"<p>{_sentence(rng, 10)}</p>"}


def task_values(obj, rng, i, owners):
    status = _option(obj.properties["hs_task_status"], rng)
    return {**_engagement_common(rng, owners),
            "hs_task_subject": f"Follow up: {rng.choice(WORDS)}",
            "hs_task_body": _maybe(rng, _sentence(rng, 6), 0.3),
            "hs_task_status": status,
            "hs_task_priority": _option(obj.properties["hs_task_priority"], rng),
            "hs_task_type": _option(obj.properties["hs_task_type"], rng),
            "hs_task_completion_date": format_ms(_when(rng)) if status == "COMPLETED" else None}


GENERATORS: dict[str, Callable[..., dict[str, Any]]] = {
    "contacts": contact_values, "companies": company_values, "deals": deal_values, "tickets": ticket_values,
    "products": product_values, "line_items": line_item_values, "calls": call_values, "emails": email_values,
    "meetings": meeting_values, "notes": note_values, "tasks": task_values,
}

_SYSTEM = {"hs_object_id", "createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate"}


def record_values(obj: ObjectType, rng: random.Random, i: int, owners: list[str]) -> dict[str, Any]:
    """Property values (without the system timestamps and id) for the ``i``-th seeded record."""
    build = GENERATORS.get(obj.name)
    values = build(obj, rng, i, owners) if build else {}
    for name, definition in obj.properties.items():
        if name not in values and name not in _SYSTEM and not definition["calculated"]:
            if name == "hubspot_owner_id":
                values[name] = rng.choice(owners) if owners else None
            elif not obj.custom and definition["hubspotDefined"] is False:
                values[name] = None        # runtime-added properties start empty
            else:
                values[name] = generic_value(definition, rng, i)
    return {k: v for k, v in values.items() if v is not None}
