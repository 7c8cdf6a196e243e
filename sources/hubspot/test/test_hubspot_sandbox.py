"""The HubSpot sandbox behaves like the documented HubSpot CRM API (and the official client
works against it)."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from harness.sandboxes import Fault, get_sandbox
from sources.hubspot.sandbox import HubSpotSandbox, RateLimitConfig

TOKEN = "sandbox-token"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
T0 = 1_750_000_000_000  # a fixed "now" for timestamp tests


class Api:
    def __init__(self, sb: HubSpotSandbox, token: str = TOKEN):
        self.sb = sb
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, **params):
        return self.s.get(self.sb.url + path, params=params)

    def post(self, path, body):
        return self.s.post(self.sb.url + path, json=body)

    def patch(self, path, body):
        return self.s.patch(self.sb.url + path, json=body)

    def put(self, path, body=None):
        return self.s.put(self.sb.url + path, json=body)

    def delete(self, path):
        return self.s.delete(self.sb.url + path)

    def search(self, object_type, body):
        return self.post(f"/crm/v3/objects/{object_type}/search", body)


@pytest.fixture(scope="module")
def seeded():
    with HubSpotSandbox(token=TOKEN, seed=250, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def sb():
    with HubSpotSandbox(token=TOKEN, seed=20, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def api(sb):
    return Api(sb)


def _error_shape(body, category):
    assert body["status"] == "error"
    assert body["category"] == category
    assert isinstance(body["message"], str) and body["message"]
    uuid.UUID(body["correlationId"])


# -- registry, auth, scopes -------------------------------------------------------------------
def test_registry_and_connection_options(sb):
    assert get_sandbox("hubspot") is HubSpotSandbox
    assert sb.connection_options() == {"base_url": sb.url, "access_token": TOKEN}


def test_missing_or_wrong_token_is_401(sb):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        r = requests.get(sb.url + "/crm/v3/objects/contacts", headers=headers)
        assert r.status_code == 401
        body = r.json()
        _error_shape(body, "INVALID_AUTHENTICATION")
        assert body["message"].startswith("Authentication credentials not found.")


def test_token_without_scope_is_403(sb):
    sb.add_token("contacts-only", scopes=["crm.objects.contacts.read"])
    api = Api(sb, "contacts-only")
    assert api.get("/crm/v3/objects/contacts").status_code == 200
    r = api.get("/crm/v3/objects/deals")
    assert r.status_code == 403
    body = r.json()
    _error_shape(body, "MISSING_SCOPES")
    assert body["message"].startswith("This app hasn't been granted all required scopes")
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]
    # writes need the write scope; search needs the read scope of its object
    assert api.post("/crm/v3/objects/contacts", {"properties": {}}).status_code == 403
    assert api.search("deals", {}).status_code == 403
    assert api.search("contacts", {}).status_code == 200


# -- list -------------------------------------------------------------------------------------
def test_list_pages_to_the_end_without_duplicates(seeded):
    api = Api(seeded)
    ids, after, pages = [], None, 0
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        body = api.get("/crm/v3/objects/contacts", **params).json()
        pages += 1
        ids += [r["id"] for r in body["results"]]
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
        assert body["paging"]["next"]["link"].startswith(seeded.url)
    assert pages == 3
    assert len(ids) == len(set(ids)) == 250 == seeded.record_count("contacts")
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)


def test_list_limit_over_100_is_400(seeded):
    r = Api(seeded).get("/crm/v3/objects/contacts", limit=101)
    assert r.status_code == 400
    _error_shape(r.json(), "VALIDATION_ERROR")
    assert Api(seeded).get("/crm/v3/objects/contacts").json()["results"].__len__() == 10  # default limit


def test_default_and_requested_properties(seeded):
    api = Api(seeded)
    default = api.get("/crm/v3/objects/contacts", limit=3).json()["results"][0]
    assert set(default["properties"]) == {"createdate", "email", "firstname", "hs_object_id",
                                          "lastmodifieddate", "lastname"}
    assert default["properties"]["hs_object_id"] == default["id"]
    assert ISO_MS.match(default["createdAt"]) and ISO_MS.match(default["updatedAt"])
    assert default["properties"]["lastmodifieddate"] == default["updatedAt"]
    # comma-separated and repeated forms; unknown names silently ignored
    for params in ({"properties": "phone,company,no_such_property"},
                   {"properties": ["phone", "company", "no_such_property"]}):
        rec = api.get("/crm/v3/objects/contacts", limit=3, **params).json()["results"][0]
        assert set(rec["properties"]) == {"phone", "company", "createdate", "hs_object_id", "lastmodifieddate"}
    deal = api.get("/crm/v3/objects/deals", limit=1).json()["results"][0]
    assert set(deal["properties"]) >= {"dealname", "amount", "dealstage", "pipeline", "closedate",
                                       "hs_lastmodifieddate", "hs_object_id"}
    # objectTypeId addresses the same object type
    assert api.get("/crm/v3/objects/0-1", limit=3).json()["results"][0]["id"] == default["id"]


def test_values_are_strings_of_the_documented_shapes(seeded):
    api = Api(seeded)
    props = [p["name"] for p in api.get("/crm/v3/properties/deals").json()["results"]]
    deals = api.get("/crm/v3/objects/deals", limit=100, properties=",".join(props)).json()["results"]
    for d in deals:
        assert all(v is None or isinstance(v, str) for v in d["properties"].values())
    amounts = [d["properties"]["amount"] for d in deals if d["properties"]["amount"]]
    assert any("." in a for a in amounts) and all(float(a) >= 0 for a in amounts)
    assert all(ISO_MS.match(d["properties"]["closedate"]) for d in deals)
    assert {d["properties"]["hs_is_closed"] for d in deals} <= {"true", "false"}
    stages = {o["value"] for o in api.get("/crm/v3/properties/deals/dealstage").json()["options"]}
    assert {d["properties"]["dealstage"] for d in deals} <= stages
    contacts = api.get("/crm/v3/objects/contacts", limit=100, properties="date_of_birth,email").json()["results"]
    births = [c["properties"]["date_of_birth"] for c in contacts if c["properties"]["date_of_birth"]]
    assert births and all(re.match(r"^\d{4}-\d{2}-\d{2}$", b) for b in births)
    assert all("@" in c["properties"]["email"] for c in contacts)


def test_archived_listing_and_get(api, sb):
    ids = sb.record_ids("companies")[:2]
    before = {i: api.get(f"/crm/v3/objects/companies/{i}").json() for i in ids}
    for i in ids:
        assert api.delete(f"/crm/v3/objects/companies/{i}").status_code == 204
    active = api.get("/crm/v3/objects/companies", limit=100).json()["results"]
    assert not {r["id"] for r in active} & set(ids)
    archived = api.get("/crm/v3/objects/companies", limit=100, archived="true").json()["results"]
    assert [r["id"] for r in archived] == ids
    for r in archived:
        assert r["archived"] is True and ISO_MS.match(r["archivedAt"])
        # archiving does not bump the modification date
        assert r["updatedAt"] == before[r["id"]]["updatedAt"]
        assert r["properties"]["hs_lastmodifieddate"] == before[r["id"]]["properties"]["hs_lastmodifieddate"]
    assert api.get(f"/crm/v3/objects/companies/{ids[0]}").status_code == 404
    assert api.get(f"/crm/v3/objects/companies/{ids[0]}", archived="true").json()["archived"] is True
    assert sb.record_count("companies", archived=True) == 2


# -- writes -----------------------------------------------------------------------------------
def test_create_update_archive_timestamps(api, sb):
    sb.freeze_clock(T0)
    r = api.post("/crm/v3/objects/contacts", {"properties": {"email": "new@example.com", "firstname": "New",
                                                             "lifecyclestage": "lead", "date_of_birth": "1990-02-03"}})
    assert r.status_code == 201
    rec = r.json()
    assert rec["createdAt"] == rec["updatedAt"] == "2025-06-15T15:06:40.000Z"
    assert rec["properties"]["lastmodifieddate"] == rec["updatedAt"]
    cid = rec["id"]
    sb.advance_clock(5_000)
    up = api.patch(f"/crm/v3/objects/contacts/{cid}", {"properties": {"firstname": "Renamed"}}).json()
    assert up["updatedAt"] == "2025-06-15T15:06:45.000Z" == up["properties"]["lastmodifieddate"]
    assert up["createdAt"] == rec["createdAt"] and up["properties"]["firstname"] == "Renamed"
    # the clock did not move, yet an update still moves updatedAt forward
    again = api.patch(f"/crm/v3/objects/contacts/{cid}", {"properties": {"firstname": "Again"}}).json()
    assert again["updatedAt"] > up["updatedAt"]
    got = api.get(f"/crm/v3/objects/contacts/{cid}", properties="firstname,date_of_birth").json()
    assert got["properties"]["firstname"] == "Again" and got["properties"]["date_of_birth"] == "1990-02-03"
    assert api.delete(f"/crm/v3/objects/contacts/{cid}").status_code == 204
    gone = api.get(f"/crm/v3/objects/contacts/{cid}", archived="true").json()
    assert gone["updatedAt"] == again["updatedAt"]
    assert api.patch(f"/crm/v3/objects/contacts/{cid}", {"properties": {"firstname": "x"}}).status_code == 404
    by_email = api.get("/crm/v3/objects/contacts/new@example.com", idProperty="email", archived="true")
    assert by_email.json()["id"] == cid


def test_invalid_writes_are_400(api):
    for props in ({"no_such_property": "x"}, {"lifecyclestage": "not-a-stage"}, {"date_of_birth": "yesterday"},
                  {"hs_email_optout": "maybe"}, {"hs_object_id": "5"}, {"lastmodifieddate": "2024-01-01"}):
        r = api.post("/crm/v3/objects/contacts", {"properties": props})
        assert r.status_code == 400, props
        _error_shape(r.json(), "VALIDATION_ERROR")
    for props in ({"amount": "12.5x"}, {"hs_is_closed": "true"}):
        assert api.post("/crm/v3/objects/deals", {"properties": props}).status_code == 400
    # empty string clears a value; calculated properties follow the written ones
    deal = api.post("/crm/v3/objects/deals", {"properties": {"dealname": "d", "dealstage": "closedwon",
                                                             "amount": "5"}}).json()
    assert deal["properties"]["hs_is_closed"] == "true"
    cleared = api.patch(f"/crm/v3/objects/deals/{deal['id']}", {"properties": {"amount": ""}}).json()
    assert cleared["properties"]["amount"] == ""
    assert api.get("/crm/v3/objects/contacts/999999999").status_code == 404
    assert api.get("/crm/v3/objects/no_such_type").status_code == 400


def test_batch_endpoints(api, sb):
    too_many = {"inputs": [{"properties": {"name": f"c{i}"}} for i in range(101)]}
    r = api.post("/crm/v3/objects/companies/batch/create", too_many)
    assert r.status_code == 400
    _error_shape(r.json(), "VALIDATION_ERROR")
    created = api.post("/crm/v3/objects/companies/batch/create",
                       {"inputs": [{"properties": {"name": f"Batch {i}", "annualrevenue": "1000.5"}} for i in range(3)]})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "COMPLETE" and ISO_MS.match(body["startedAt"]) and ISO_MS.match(body["completedAt"])
    ids = [r["id"] for r in body["results"]]
    read = api.post("/crm/v3/objects/companies/batch/read",
                    {"inputs": [{"id": i} for i in ids], "properties": ["name", "annualrevenue"]}).json()
    assert sorted(r["id"] for r in read["results"]) == sorted(ids)
    assert {r["properties"]["annualrevenue"] for r in read["results"]} == {"1000.5"}
    partial = api.post("/crm/v3/objects/companies/batch/read", {"inputs": [{"id": ids[0]}, {"id": "424242"}]})
    assert partial.status_code == 207 and partial.json()["numErrors"] == 1
    upd = api.post("/crm/v3/objects/companies/batch/update",
                   {"inputs": [{"id": i, "properties": {"name": "Renamed"}} for i in ids]}).json()
    assert {r["properties"]["name"] for r in upd["results"]} == {"Renamed"}
    assert api.post("/crm/v3/objects/companies/batch/archive", {"inputs": [{"id": i} for i in ids]}).status_code == 204
    assert sb.record_count("companies", archived=True) == 3
    assert api.post("/crm/v3/objects/companies/batch/read", {"inputs": [{"id": "1"}] * 101}).status_code == 400


# -- search -----------------------------------------------------------------------------------
@pytest.fixture
def deals_api():
    with HubSpotSandbox(token=TOKEN, seed=0, rate_limits=False) as sb:
        api = Api(sb)
        rows = [
            ("Alpha one", "10", "appointmentscheduled", "2024-01-10T00:00:00.000Z"),
            ("Beta two", "20.5", "closedwon", "2024-02-10T00:00:00.000Z"),
            ("Gamma three", "30", "closedlost", "2024-03-10T00:00:00.000Z"),
            ("Delta four", None, "closedwon", "2024-04-10T00:00:00.000Z"),
            ("alpha five", "100.25", "contractsent", "2024-05-10T00:00:00.000Z"),
        ]
        ids = {}
        for name, amount, stage, close in rows:
            props = {"dealname": name, "dealstage": stage, "pipeline": "default", "closedate": close}
            if amount is not None:
                props["amount"] = amount
            ids[name] = api.post("/crm/v3/objects/deals", {"properties": props}).json()["id"]
        api.ids = ids
        yield api


def _names(api, filters, **extra):
    body = {"filterGroups": [{"filters": filters}], "properties": ["dealname"], "limit": 100, **extra}
    r = api.search("deals", body)
    assert r.status_code == 200, r.text
    return [x["properties"]["dealname"] for x in r.json()["results"]]


def test_search_operators(deals_api):
    api = deals_api
    f = lambda op, **kw: {"propertyName": kw.pop("p", "amount"), "operator": op, **kw}  # noqa: E731
    assert _names(api, [f("EQ", p="dealname", value="ALPHA ONE")]) == ["Alpha one"]
    assert "Gamma three" not in _names(api, [f("NEQ", value="30")])
    assert sorted(_names(api, [f("GT", value="20.5")])) == ["Gamma three", "alpha five"]      # numeric, not lexical
    assert sorted(_names(api, [f("GTE", value="20.5")])) == ["Beta two", "Gamma three", "alpha five"]
    assert _names(api, [f("LT", value="20.5")]) == ["Alpha one"]
    assert _names(api, [f("LTE", value="20.5")]) == ["Alpha one", "Beta two"]
    assert _names(api, [f("BETWEEN", value="20.5", highValue="30")]) == ["Beta two", "Gamma three"]
    assert _names(api, [f("IN", p="dealstage", values=["closedwon", "closedlost"])]) == \
        ["Beta two", "Gamma three", "Delta four"]
    assert _names(api, [f("NOT_IN", p="dealstage", values=["closedwon", "closedlost"])]) == ["Alpha one", "alpha five"]
    assert _names(api, [f("NOT_HAS_PROPERTY")]) == ["Delta four"]
    assert len(_names(api, [f("HAS_PROPERTY")])) == 4
    assert _names(api, [f("CONTAINS_TOKEN", p="dealname", value="alpha")]) == ["Alpha one", "alpha five"]
    assert _names(api, [f("CONTAINS_TOKEN", p="dealname", value="gam*")]) == ["Gamma three"]
    # datetimes compare by epoch milliseconds (ISO accepted too)
    march = str(1_709_251_200_000)  # 2024-03-01T00:00:00Z
    assert _names(api, [f("GTE", p="closedate", value=march)]) == ["Gamma three", "Delta four", "alpha five"]
    assert _names(api, [f("LT", p="closedate", value="2024-03-01T00:00:00.000Z")]) == ["Alpha one", "Beta two"]
    # filters AND within a group, groups OR
    both = _names(api, [f("GT", value="15"), f("EQ", p="dealstage", value="closedwon")])
    assert both == ["Beta two"]
    body = {"filterGroups": [{"filters": [f("EQ", p="dealname", value="alpha one")]},
                             {"filters": [f("EQ", p="dealname", value="delta four")]}]}
    assert api.search("deals", body).json()["total"] == 2


def test_search_sort_paging_and_shape(deals_api):
    api = deals_api
    r = api.search("deals", {"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
                             "properties": ["dealname", "amount"], "limit": 2})
    body = r.json()
    assert "X-HubSpot-RateLimit-Max" not in r.headers
    assert body["total"] == 5
    assert [x["properties"]["amount"] for x in body["results"]] == ["100.25", "30"]
    assert body["paging"]["next"]["after"] == "2"
    assert "associations" not in body["results"][0]
    rest = api.search("deals", {"sorts": ["-amount"], "properties": ["amount"], "after": "2", "limit": 10}).json()
    assert [x["properties"]["amount"] for x in rest["results"]] == ["20.5", "10", None]   # no value sorts last
    assert "paging" not in rest
    # default properties of deals search results
    first = api.search("deals", {"limit": 1}).json()["results"][0]
    assert set(first["properties"]) == {"amount", "closedate", "createdate", "dealname", "dealstage",
                                        "hs_lastmodifieddate", "hs_object_id", "pipeline"}
    # ties on the sort property are broken by id ascending
    api.sb.seed_burst("deals", 30, T0)
    ties = api.search("deals", {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate",
                                                                "operator": "EQ", "value": str(T0)}]}],
                                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
                                "limit": 30}).json()
    ids = [int(x["id"]) for x in ties["results"]]
    assert ties["total"] == 30 and ids == sorted(ids)


def test_search_limits(deals_api):
    api = deals_api
    flt = {"propertyName": "amount", "operator": "HAS_PROPERTY"}
    assert api.search("deals", {"limit": 201}).status_code == 400
    assert api.search("deals", {"filterGroups": [{"filters": [flt]}] * 6}).status_code == 400
    assert api.search("deals", {"filterGroups": [{"filters": [flt] * 7}]}).status_code == 400
    assert api.search("deals", {"filterGroups": [{"filters": [flt] * 6}] * 3 + [{"filters": [flt]}]}).status_code == 400
    assert api.search("deals", {"filterGroups": [{"filters": [flt] * 6}] * 3}).status_code == 200
    two_sorts = [{"propertyName": "amount"}, {"propertyName": "dealname"}]
    r = api.search("deals", {"sorts": two_sorts})
    assert r.status_code == 400
    _error_shape(r.json(), "VALIDATION_ERROR")


def test_search_cannot_page_past_10000(api, sb):
    sb.seed_burst("contacts", 10_050, T0)
    body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(T0)}]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200,
            "properties": ["email"]}
    seen, after, started = [], None, time.time()
    while True:
        r = api.search("contacts", {**body, **({"after": after} if after else {})})
        if r.status_code != 200:
            break
        page = r.json()
        assert page["total"] == 10_050
        seen += [x["id"] for x in page["results"]]
        after = page["paging"]["next"]["after"]
    assert r.status_code == 400 and after == "10000"
    _error_shape(r.json(), "VALIDATION_ERROR")
    assert len(seen) == len(set(seen)) == 10_000
    assert time.time() - started < 5


def test_search_excludes_archived(api, sb):
    cid = sb.record_ids("contacts")[0]
    body = {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": cid}]}]}
    assert api.search("contacts", body).json()["total"] == 1
    sb.archive_records("contacts", [cid])
    assert api.search("contacts", body).json()["total"] == 0
    assert api.search("contacts", {}).json()["total"] == 19


def test_search_index_delay(api, sb):
    sb.set_search_index_delay(0.4)
    cid = sb.record_ids("contacts")[0]
    new_id = api.post("/crm/v3/objects/contacts", {"properties": {"email": "late@example.com"}}).json()["id"]
    api.patch(f"/crm/v3/objects/contacts/{cid}", {"properties": {"firstname": "Changed"}})
    by_id = lambda i: {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "EQ",  # noqa: E731
                                                      "value": i}]}], "properties": ["firstname"]}
    assert api.search("contacts", by_id(new_id)).json()["total"] == 0
    old = api.search("contacts", by_id(cid)).json()["results"][0]
    assert old["properties"]["firstname"] != "Changed"
    assert api.search("contacts", {}).json()["total"] == 20
    assert api.get(f"/crm/v3/objects/contacts/{new_id}").status_code == 200   # reads are immediate
    time.sleep(0.45)
    assert api.search("contacts", by_id(new_id)).json()["total"] == 1
    assert api.search("contacts", by_id(cid)).json()["results"][0]["properties"]["firstname"] == "Changed"
    assert api.search("contacts", {}).json()["total"] == 21


# -- rate limits, faults, 414 -----------------------------------------------------------------
def test_rate_limits():
    with HubSpotSandbox(token=TOKEN, seed=3, ten_second_limit=5, search_per_second=2) as sb:
        api = Api(sb)
        for i in range(5):
            r = api.get("/crm/v3/objects/contacts")
            assert r.status_code == 200
            assert r.headers["X-HubSpot-RateLimit-Max"] == "5"
            assert r.headers["X-HubSpot-RateLimit-Remaining"] == str(4 - i)
            assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
            assert "X-HubSpot-RateLimit-Daily" in r.headers and "X-HubSpot-RateLimit-Daily-Remaining" in r.headers
        r = api.get("/crm/v3/objects/contacts")
        assert r.status_code == 429 and "Retry-After" not in r.headers
        body = r.json()
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["groupName"].startswith("publicapi:private-app")
        uuid.UUID(body["correlationId"])
        sb.retry_after_on_429 = True
        assert int(api.get("/crm/v3/objects/contacts").headers["Retry-After"]) >= 1
        # search has its own per-second limit and no rate-limit headers
        for _ in range(2):
            r = api.search("contacts", {})
            assert r.status_code == 200
            assert not [h for h in r.headers if h.lower().startswith("x-hubspot-ratelimit")]
        r = api.search("contacts", {})
        assert r.status_code == 429 and r.json()["policyName"] == "SECONDLY"
    cfg = RateLimitConfig(enabled=False)
    with HubSpotSandbox(token=TOKEN, rate_limits=cfg) as sb:
        api = Api(sb)
        assert all(api.get("/crm/v3/objects/contacts").status_code == 200 for _ in range(30))


def test_injected_faults_and_latency(api, sb):
    sb.inject(Fault(503), times=1, endpoint="GET /crm/v3/objects/{object_type}")
    assert api.get("/crm/v3/objects/contacts").status_code == 503
    assert api.get("/crm/v3/objects/contacts").status_code == 200
    assert sb.request_counts["GET /crm/v3/objects/{object_type}"] == 2


def test_uri_too_long_is_414(api, sb):
    names = ",".join(f"custom_property_number_{i}" for i in range(400))
    r = api.get("/crm/v3/objects/contacts", properties=names)
    assert r.status_code == 414
    assert sb.uri_too_long_count == 1
    assert api.get("/crm/v3/objects/contacts", properties=names[:3000]).status_code == 200


# -- properties, schemas, owners ----------------------------------------------------------------
def test_properties_api_and_runtime_property(api, sb):
    props = api.get("/crm/v3/properties/contacts").json()["results"]
    by_name = {p["name"]: p for p in props}
    for name, kind in {"email": "string", "lifecyclestage": "enumeration", "createdate": "datetime",
                       "lastmodifieddate": "datetime", "hs_object_id": "number", "hs_email_optout": "bool",
                       "date_of_birth": "date", "hs_whatsapp_phone_number": "phone_number"}.items():
        assert by_name[name]["type"] == kind
    p = by_name["lifecyclestage"]
    for key in ("label", "fieldType", "groupName", "description", "calculated", "externalOptions", "hasUniqueValue",
                "hidden", "hubspotDefined", "modificationMetadata", "formField", "displayOrder", "createdAt",
                "updatedAt"):
        assert key in p
    assert {"label", "value", "displayOrder", "hidden"} <= set(p["options"][0])
    assert api.get("/crm/v3/properties/contacts/email").json()["name"] == "email"
    assert api.get("/crm/v3/properties/contacts/nope").status_code == 404
    assert api.get("/crm/v3/properties/0-3/amount").json()["type"] == "number"

    new = {"name": "loyalty_tier", "label": "Loyalty tier", "type": "enumeration", "fieldType": "select",
           "groupName": "contactinformation", "options": [{"label": "Gold", "value": "gold"},
                                                          {"label": "Silver", "value": "silver"}]}
    r = api.post("/crm/v3/properties/contacts", new)
    assert r.status_code == 201 and r.json()["hubspotDefined"] is False
    assert api.post("/crm/v3/properties/contacts", new).status_code == 409
    cid = sb.record_ids("contacts")[0]
    assert api.patch(f"/crm/v3/objects/contacts/{cid}", {"properties": {"loyalty_tier": "bronze"}}).status_code == 400
    api.patch(f"/crm/v3/objects/contacts/{cid}", {"properties": {"loyalty_tier": "gold"}})
    got = api.get(f"/crm/v3/objects/contacts/{cid}", properties="loyalty_tier").json()
    assert got["properties"]["loyalty_tier"] == "gold"
    sb.add_property("contacts", "nps_score", "number", "number")
    listed = api.get("/crm/v3/objects/contacts", limit=2, properties="nps_score").json()["results"]
    assert listed[0]["properties"]["nps_score"] is None
    assert "nps_score" in {p["name"] for p in api.get("/crm/v3/properties/contacts").json()["results"]}


def test_schemas_and_custom_object_crud(api, sb):
    schema = {"name": "cars", "labels": {"singular": "Car", "plural": "Cars"}, "primaryDisplayProperty": "model",
              "requiredProperties": ["model"], "searchableProperties": ["model"],
              "properties": [{"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
                             {"name": "price", "label": "Price", "type": "number", "fieldType": "number"}],
              "associatedObjects": ["CONTACT"]}
    r = api.post("/crm/v3/schemas", schema)
    assert r.status_code == 201
    created = r.json()
    assert re.match(r"^2-\d+$", created["objectTypeId"])
    assert created["fullyQualifiedName"] == f"p{sb.portal_id}_cars"
    assert {"hs_object_id", "hs_createdate", "hs_lastmodifieddate", "model", "price"} <= \
        {p["name"] for p in created["properties"]}
    assert api.post("/crm/v3/schemas", schema).status_code == 409
    listed = api.get("/crm/v3/schemas").json()["results"]
    assert [s["name"] for s in listed] == ["cars"] and listed[0]["labels"]["plural"] == "Cars"
    assert api.get(f"/crm/v3/schemas/{created['objectTypeId']}").json()["name"] == "cars"

    type_id, fqn = created["objectTypeId"], created["fullyQualifiedName"]
    assert api.post(f"/crm/v3/objects/{type_id}", {"properties": {"price": "1"}}).status_code == 400  # required
    car = api.post(f"/crm/v3/objects/{type_id}", {"properties": {"model": "Model T", "price": "850.50"}}).json()
    assert car["properties"]["hs_object_id"] == car["id"]
    for alias in ("cars", type_id, fqn):
        got = api.get(f"/crm/v3/objects/{alias}/{car['id']}", properties="model,price").json()
        assert got["properties"]["model"] == "Model T" and got["properties"]["price"] == "850.50"
    api.patch(f"/crm/v3/objects/cars/{car['id']}", {"properties": {"price": "900"}})
    hits = api.search(fqn, {"filterGroups": [{"filters": [{"propertyName": "price", "operator": "GT",
                                                            "value": "899"}]}]}).json()
    assert hits["total"] == 1 and set(hits["results"][0]["properties"]) == \
        {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}
    assert api.get("/crm/v3/properties/cars").status_code == 200
    assert api.delete(f"/crm/v3/objects/cars/{car['id']}").status_code == 204
    assert api.get("/crm/v3/objects/cars", archived="true").json()["results"][0]["id"] == car["id"]


def test_owners(api):
    page = api.get("/crm/v3/owners", limit=5).json()
    assert len(page["results"]) == 5 and "after" in page["paging"]["next"]
    owner = page["results"][0]
    assert {"id", "email", "firstName", "lastName", "userId", "createdAt", "updatedAt", "archived", "teams"} <= set(owner)
    rest = api.get("/crm/v3/owners", limit=100, after=page["paging"]["next"]["after"]).json()
    assert len(rest["results"]) == 15 and "paging" not in rest
    assert api.get(f"/crm/v3/owners/{owner['id']}").json()["email"] == owner["email"]
    assert api.get("/crm/v3/owners", archived="true").json()["results"] == []


# -- associations -----------------------------------------------------------------------------
def test_associations_v4_and_in_list_responses(api, sb):
    contact, deal = sb.record_ids("contacts")[0], sb.record_ids("deals")[0]
    before = api.get(f"/crm/v3/objects/contacts/{contact}").json()
    r = api.post("/crm/v4/associations/contacts/deals/batch/create",
                 {"inputs": [{"from": {"id": contact}, "to": {"id": deal},
                              "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]}]})
    assert r.status_code == 201 and r.json()["results"][0]["toObjectId"] == int(deal)
    read = api.post("/crm/v4/associations/deals/contacts/batch/read", {"inputs": [{"id": deal}]}).json()
    assert read["status"] == "COMPLETE"
    back = {t["toObjectId"]: t["associationTypes"] for t in read["results"][0]["to"]}
    assert back[int(contact)] == [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]
    listed = api.get("/crm/v3/objects/contacts", limit=1, associations="deals,companies").json()["results"][0]
    assert {"id": deal, "type": "contact_to_deal"} in listed["associations"]["deals"]["results"]
    assert listed["associations"]["companies"]["results"]
    # associating does not change the modification date
    after = api.get(f"/crm/v3/objects/contacts/{contact}").json()
    assert after["updatedAt"] == before["updatedAt"]
    # default association (both directions) and single-record GET with associations
    ticket = sb.record_ids("tickets")[-1]
    d = api.put(f"/crm/v4/objects/contacts/{contact}/associations/default/tickets/{ticket}")
    assert d.status_code == 200
    assert [x["associationSpec"]["associationTypeId"] for x in d.json()["results"]] == [15, 16]
    got = api.get(f"/crm/v3/objects/tickets/{ticket}", associations="contacts").json()
    assert {"id": contact, "type": "ticket_to_contact"} in got["associations"]["contacts"]["results"]
    # a record without associations is reported in errors (207)
    lonely = api.post("/crm/v3/objects/deals", {"properties": {"dealname": "alone"}}).json()["id"]
    partial = api.post("/crm/v4/associations/deals/contacts/batch/read", {"inputs": [{"id": lonely}, {"id": deal}]})
    assert partial.status_code == 207 and partial.json()["numErrors"] == 1
    assert api.post("/crm/v4/associations/contacts/deals/batch/archive",
                    {"inputs": [{"from": {"id": contact}, "to": [{"id": deal}]}]}).status_code == 204
    listed = api.get(f"/crm/v3/objects/contacts/{contact}", associations="deals").json()
    assert all(x["id"] != deal for x in listed.get("associations", {}).get("deals", {}).get("results", []))


def test_seeded_associations(seeded):
    api = Api(seeded)
    page = api.get("/crm/v3/objects/contacts", limit=100, associations="companies").json()["results"]
    assert all(r["associations"]["companies"]["results"] for r in page)
    deals = api.get("/crm/v3/objects/deals", limit=20, associations="contacts,companies").json()["results"]
    assert all("contacts" in d["associations"] and "companies" in d["associations"] for d in deals)


# -- scenario helpers ---------------------------------------------------------------------------
def test_seed_burst_is_fast_and_shares_one_timestamp(api, sb):
    started = time.time()
    ids = sb.seed_burst("companies", 12_000, T0)
    assert time.time() - started < 2.0
    assert len(ids) == 12_000 and sb.record_count("companies") == 12_020
    rec = api.get(f"/crm/v3/objects/companies/{ids[-1]}").json()
    assert rec["updatedAt"] == rec["createdAt"] == "2025-06-15T15:06:40.000Z"
    assert rec["properties"]["hs_lastmodifieddate"] == rec["updatedAt"]


def test_helpers_update_archive_and_after_nth_request(api, sb):
    ids = sb.record_ids("contacts")
    sb.update_records("contacts", ids[:2], {"firstname": "Helper"}, timestamp_ms=T0)
    got = api.get(f"/crm/v3/objects/contacts/{ids[0]}").json()
    assert got["properties"]["firstname"] == "Helper" and got["updatedAt"] == "2025-06-15T15:06:40.000Z"
    # a record changes while a reader is paging: after the first page is served
    sb.after_nth_request("GET /crm/v3/objects/{object_type}", 1,
                         lambda: sb.update_records("contacts", [ids[-1]], {"lastname": "Moved"}))
    seen = []
    sb.on_request(lambda endpoint, request, response: seen.append((endpoint, response.status)))
    first = api.get("/crm/v3/objects/contacts", limit=10, properties="lastname").json()
    assert all(r["properties"]["lastname"] != "Moved" for r in first["results"])
    second = api.get("/crm/v3/objects/contacts", limit=10, after=first["paging"]["next"]["after"],
                     properties="lastname").json()
    assert second["results"][-1]["properties"]["lastname"] == "Moved"
    assert seen == [("GET /crm/v3/objects/{object_type}", 200)] * 2
    sb.archive_records("contacts", ids[:1])
    assert sb.record_count("contacts") == 19 and sb.record_count("contacts", archived=True) == 1


def test_seed_is_deterministic():
    a, b = HubSpotSandbox(seed=5), HubSpotSandbox(seed=5)
    for object_type in ("contacts", "deals", "line_items", "notes"):
        ra = [a.get_record(object_type, i) for i in a.record_ids(object_type)]
        rb = [b.get_record(object_type, i) for i in b.record_ids(object_type)]
        assert ra == rb


# -- the official client ------------------------------------------------------------------------
def test_official_hubspot_client_works_unchanged(seeded):
    from hubspot import HubSpot
    from hubspot.crm.contacts import PublicObjectSearchRequest, SimplePublicObjectInputForCreate

    client = HubSpot(access_token=TOKEN, host=seeded.url)
    page = client.crm.contacts.basic_api.get_page(limit=10, properties=["email", "date_of_birth"],
                                                  associations=["companies"])
    assert len(page.results) == 10 and page.paging.next.after
    assert "@" in page.results[0].properties["email"] and page.results[0].associations["companies"].results

    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}]}],
        sorts=["-lastmodifieddate"], properties=["email", "lifecyclestage"], limit=20)
    found = client.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert found.total > 0 and {r.properties["lifecyclestage"] for r in found.results} == {"lead"}
    stamps = [r.properties["lastmodifieddate"] for r in found.results]
    assert stamps == sorted(stamps, reverse=True)

    props = client.crm.properties.core_api.get_all("contacts")
    assert {"email", "lastmodifieddate", "lifecyclestage"} <= {p.name for p in props.results}

    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "client@example.com", "firstname": "Client"}))
    assert client.crm.contacts.basic_api.get_by_id(created.id).properties["email"] == "client@example.com"
    client.crm.contacts.basic_api.archive(created.id)

    owners = client.crm.owners.owners_api.get_page(limit=5)
    assert len(owners.results) == 5

    schema = client.crm.schemas.core_api.create({
        "name": "vehicles", "labels": {"singular": "Vehicle", "plural": "Vehicles"},
        "primaryDisplayProperty": "model", "requiredProperties": ["model"],
        "properties": [{"name": "model", "label": "Model", "type": "string", "fieldType": "text"}]})
    assert schema.fully_qualified_name.endswith("_vehicles")
    assert "vehicles" in {s.name for s in client.crm.schemas.core_api.get_all().results}


def test_more_than_10000_sharing_a_timestamp_can_be_read_by_reanchoring_on_id(api, sb):
    """The pattern FIELD_NOTES recommends: page by hs_object_id within one timestamp."""
    ids = set(sb.seed_burst("deals", 12_000, T0))
    seen, anchor = [], "0"
    while True:
        body = {"filterGroups": [{"filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": str(T0)},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": anchor}]}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200}
        page = api.search("deals", body).json()
        if not page["results"]:
            break
        seen += [r["id"] for r in page["results"]]
        anchor = page["results"][-1]["id"]
    assert len(seen) == len(set(seen)) == 12_000 and set(seen) == ids


def test_concurrent_writes_get_unique_ids(sb):
    from concurrent.futures import ThreadPoolExecutor

    def create(i):
        return Api(sb).post("/crm/v3/objects/tickets", {"properties": {"subject": f"t{i}"}}).json()["id"]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(create, range(40)))
    assert len(set(ids)) == 40 and sb.record_count("tickets") == 60
