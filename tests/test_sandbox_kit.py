"""The declared sandbox kit (sources/toolkit/sandbox): a sandbox declared as tables serves
them over HTTP with auth, filters, sort, every paging style, writes, errors, deterministic
seed data filling every column, the truth and scenarios."""

from __future__ import annotations

import json

import pytest
import requests

from sources.toolkit.sandbox import (
    BOOLEAN, DATE, EPOCH_SECONDS, INTEGER, NUMBER, STRING, TIMESTAMP, ApiKeyAuth, BearerAuth, DeclaredSandbox, Filter,
    BasicAuth, KeysetPaging, NoPaging, OffsetPaging, PageNumberPaging, Response, Sort, StartingAfterPaging, Table, TokenPaging,
    array_of, derived, maybe, obj, one_of, route,
)
from sources.http import HttpClient
from sources.toolkit import KeysetPaginator
from sources.toolkit.sandbox.fields import get_path

PET = {
    "id": INTEGER, "name": STRING, "kind": one_of("cat", "dog"), "weight": NUMBER, "vaccinated": BOOLEAN,
    "born_on": DATE, "tags": array_of(STRING), "owner": obj(id=INTEGER, name=STRING, address=obj(city=STRING)),
    "visits": array_of(obj(at=TIMESTAMP, vet=STRING)), "note": maybe(STRING),
    "url": derived(lambda r, i: f"https://pets.example/{r['id']}"), "updated_at": TIMESTAMP,
}


class PetsSandbox(DeclaredSandbox):
    name = "pets"
    auth = BearerAuth("pets-token")
    error_body = {"message": "{message}", "code": "{status}"}
    path_values = {"shop": "main"}
    tables = (
        Table("pets", "/v1/{shop}/pets", PET, "id", cursor="updated_at", rows=95, ties=10,
              filters=(Filter("since", "updated_at", ">="), Filter("kind", "kind", "in")),
              sort=Sort({"updated": "updated_at", "name": "name"}, "updated"),
              paging=PageNumberPaging(link_header=True, max_size=50), writes=("create", "update", "delete"),
              required=("name",)),
        Table("visits", "/v1/visits", {"id": STRING, "pet": INTEGER, "at": TIMESTAMP}, "id", cursor="at", rows=42,
              paging=OffsetPaging(default_size=10, total_key="total"), envelope="data"),
        Table("owners", "/v1/owners", {"id": INTEGER, "name": STRING}, "id", rows=25,
              paging=TokenPaging(default_size=10), envelope="results"),
        Table("kinds", "/v1/kinds", {"id": INTEGER, "label": STRING}, "id", rows=3, paging=NoPaging()),
        Table("events", "/v1/events", {"id": INTEGER, "at": TIMESTAMP}, "id", cursor="at", rows=130, ties=40,
              paging=KeysetPaging(default_size=25), envelope="data"),
    )

    @route("GET", r"/v1/health")
    def health(self, request):  # a custom route beside the declared tables
        return Response.json({"ok": True})


@pytest.fixture(scope="module")
def sandbox():
    with PetsSandbox() as server:
        yield server


def get(sandbox, path, token="pets-token", **params):
    return requests.get(sandbox.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_auth_and_declared_error_bodies(sandbox):
    denied = get(sandbox, "/v1/main/pets", token="wrong")
    assert denied.status_code == 401 and denied.json() == {"message": "Bad credentials", "code": "401"}
    assert get(sandbox, "/v1/other/pets").status_code == 404  # path value not served
    bad = get(sandbox, "/v1/main/pets", per_page=500)
    assert bad.status_code == 400 and "per_page must be between 1 and 50" in bad.json()["message"]
    assert get(sandbox, "/v1/main/pets", sort="colour").status_code == 400
    odd = get(sandbox, "/v1/main/pets", since='2024-01-01"\\x')  # quotes and backslashes survive into the body
    assert odd.status_code == 400 and odd.json()["message"] == "'2024-01-01\"\\\\x' is not a valid timestamp"
    assert sandbox.connection_options() == {"base_url": sandbox.url, "access_token": "pets-token"}


def test_link_header_paging_filters_and_sort_match_the_truth(sandbox):
    truth = sandbox.truth("pets")
    seen, url = [], f"{sandbox.url}/v1/main/pets?per_page=20&kind=cat"
    while url:
        page = requests.get(url, headers={"Authorization": "Bearer pets-token"}, timeout=10)
        seen += page.json()
        url = page.links.get("next", {}).get("url")
    cats = [r for r in truth.records.values() if r["kind"] == "cat"]
    assert sorted(r["id"] for r in seen) == sorted(r["id"] for r in cats) and len(seen) == len({r["id"] for r in seen})
    assert [r["updated_at"] for r in seen] == sorted(r["updated_at"] for r in seen)
    by_name = get(sandbox, "/v1/main/pets", sort="name", direction="desc", per_page=50).json()
    assert [r["name"] for r in by_name] == sorted((r["name"] for r in truth.records.values()), reverse=True)[:50]
    tied = max(r["updated_at"] for r in truth.records.values())
    assert sum(r["updated_at"] == tied for r in truth.records.values()) == 10
    since = get(sandbox, "/v1/main/pets", since=tied, per_page=50).json()
    assert len(since) == 10  # the bound is inclusive
    assert get(sandbox, "/v1/main/pets", since="yesterday").status_code == 400


def test_offset_token_and_single_page_paging(sandbox):
    first = get(sandbox, "/v1/visits", limit=10).json()
    assert first["total"] == 42 and len(first["data"]) == 10
    rows = [r for offset in range(0, 50, 10) for r in get(sandbox, "/v1/visits", offset=offset).json()["data"]]
    assert sorted(r["id"] for r in rows) == sorted(sandbox.truth("visits").records[k]["id"]
                                                  for k in sandbox.truth("visits").records)
    owners, after = [], None
    while True:
        body = get(sandbox, "/v1/owners", **({"after": after} if after else {})).json()
        owners += body["results"]
        after = get_path(body, "paging.next.after")
        if after is None:
            break
    assert len(owners) == 25 == len({o["id"] for o in owners})
    assert get(sandbox, "/v1/owners", after="zz").status_code == 400
    assert len(get(sandbox, "/v1/kinds").json()) == 3
    assert get(sandbox, "/v1/health").json() == {"ok": True}


def test_keyset_paging_fits_the_toolkits_keyset_paginator(sandbox):
    client = HttpClient(sandbox.url, headers={"Authorization": "Bearer pets-token"})
    pages = list(client.paginate("/v1/events", KeysetPaginator("at", "id")))
    read = [r for page in pages for r in page]
    truth = sorted(sandbox.truth("events").records.values(), key=lambda r: (r["at"], r["id"]))
    assert [r["id"] for r in read] == [r["id"] for r in truth] and len(pages) == 7  # 6 full pages + the empty one
    tied = truth[-1]["at"]
    after = get(sandbox, "/v1/events", since_cursor=tied, since_id=truth[-5]["id"]).json()["data"]
    assert [r["id"] for r in after] == [r["id"] for r in truth[-4:]]


def test_seed_fills_every_column_and_is_deterministic():
    with PetsSandbox() as one, PetsSandbox() as two, PetsSandbox(seed=7) as other:
        rows = list(one.truth("pets").records.values())
        assert rows == list(two.truth("pets").records.values())
        assert rows != list(other.truth("pets").records.values())

    def filled(value):
        if isinstance(value, dict):
            return all(filled(v) for v in value.values())
        if isinstance(value, list):
            return bool(value) and all(filled(v) for v in value)
        return value is not None

    for column in PET:
        assert any(filled(r[column]) for r in rows), column
    assert sum(r["note"] is None for r in rows) == len(rows) // 4  # a maybe() field is sometimes null
    assert all(r["url"] == f"https://pets.example/{r['id']}" for r in rows)


def test_writes_change_the_truth(sandbox):
    headers = {"Authorization": "Bearer pets-token"}
    missing = requests.post(f"{sandbox.url}/v1/main/pets", json={"kind": "dog"}, headers=headers, timeout=10)
    assert missing.status_code == 422 and "name" in missing.json()["message"]
    created = requests.post(f"{sandbox.url}/v1/main/pets", json={"name": "Rex", "id": 1}, headers=headers, timeout=10)
    assert created.status_code == 201
    pet = created.json()
    assert pet["name"] == "Rex" and pet["id"] != 1 and pet["owner"]["address"]["city"]  # filled, id assigned
    patched = requests.patch(f"{sandbox.url}/v1/main/pets/{pet['id']}", json={"name": "Max"}, headers=headers, timeout=10)
    # the clock has second resolution and never goes back: a write in the same second shares its value
    assert patched.json()["name"] == "Max" and patched.json()["updated_at"] >= pet["updated_at"]
    key = next(k for k, r in sandbox.truth("pets").records.items() if r["id"] == pet["id"])
    assert sandbox.truth("pets").records[key]["name"] == "Max"
    assert requests.delete(f"{sandbox.url}/v1/main/pets/{pet['id']}", headers=headers, timeout=10).status_code == 204
    truth = sandbox.truth("pets")
    assert key not in truth.records and key in truth.deleted
    assert requests.delete(f"{sandbox.url}/v1/main/pets/{pet['id']}", headers=headers, timeout=10).status_code == 404
    assert requests.get(f"{sandbox.url}/__truth__/pets", timeout=10).json()["table"] == "pets"


def test_scenarios_rate_limits_and_api_keys(sandbox):
    before = sandbox.truth("pets")
    burst = sandbox.scenario("pets", "burst", 5)
    assert len({r["updated_at"] for r in burst}) == 1 and len(sandbox.truth("pets").records) == len(before.records) + 5
    updated = sandbox.scenario("pets", "update", 3)
    assert all(r["name"].startswith("edited ") for r in updated)
    deleted = sandbox.scenario("pets", "delete", 2)  # pets declare the delete write
    assert {(json.dumps(r["id"]),) for r in deleted} <= set(sandbox.truth("pets").deleted)
    newest = sandbox.truth("pets").newest()
    tied = sandbox.scenario("pets", "tie", 3) + sandbox.scenario("pets", "tie_update", 2)
    assert [r["updated_at"] for r in tied] == [newest] * 5
    with pytest.raises(NotImplementedError):
        sandbox.scenario("kinds", "delete", 1)
    sandbox.rate_limit(times=1, retry_after=2)
    limited = get(sandbox, "/v1/kinds")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["message"] == "rate limit exceeded" and get(sandbox, "/v1/kinds").ok

    class KeyedSandbox(PetsSandbox):
        auth = ApiKeyAuth("k1", header=None, query="api_key")

    with KeyedSandbox(token="k2") as keyed:
        assert keyed.connection_options()["api_key"] == "k2"
        assert requests.get(f"{keyed.url}/v1/kinds", params={"api_key": "k2"}, timeout=10).ok
        assert requests.get(f"{keyed.url}/v1/kinds", params={"api_key": "k1"}, timeout=10).status_code == 401


def test_declaration_mistakes_are_named():
    class Broken(DeclaredSandbox):
        tables = (Table("t", "/t", {"id": INTEGER}, "id", cursor="modified"),)

    with pytest.raises(ValueError, match=r"tables\['t'\].*'modified' is not a declared field"):
        Broken()

    class BadFilter(DeclaredSandbox):
        tables = (Table("t", "/t", {"id": INTEGER}, "id", filters=(Filter("since", "updated"),)),)

    with pytest.raises(ValueError, match=r"tables\['t'\]: 'updated' is not a declared field"):
        BadFilter()

    class NoEnvelope(DeclaredSandbox):
        tables = (Table("t", "/t", {"id": INTEGER}, "id", paging=TokenPaging()),)

    with pytest.raises(ValueError, match="declare envelope="):
        NoEnvelope()

    class KeysetWithoutCursor(DeclaredSandbox):
        tables = (Table("t", "/t", {"id": INTEGER}, "id", paging=KeysetPaging(), envelope="data"),)

    with pytest.raises(ValueError, match="keyset paging needs a cursor"):
        KeysetWithoutCursor()


def test_the_authoring_guides_declared_sandbox_runs():
    """docs/authoring.md's sandbox example, executed as written."""
    from harness.spark import PROJECT_ROOT

    guide = (PROJECT_ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    block = next(b.split("\n", 1)[1] for b in guide.split("```")[1::2] if "class MySandbox(DeclaredSandbox)" in b)
    scope: dict = {}
    exec(compile(block, "docs/authoring.md", "exec"), scope)
    with scope["MySandbox"]() as sb:
        headers = {"Authorization": "Bearer mysource-token"}
        first = requests.get(f"{sb.url}/v1/acme/orders", params={"per_page": 100}, headers=headers, timeout=10)
        assert first.status_code == 200 and len(first.json()) == 100 and 'rel="next"' in first.headers["Link"]
        assert requests.get(f"{sb.url}/v1/other/orders", headers=headers, timeout=10).status_code == 404
        assert requests.post(f"{sb.url}/v1/acme/orders", json={}, headers=headers, timeout=10).status_code == 422
        assert len(sb.truth("orders").records) == 250


def test_append_only_tables_have_no_update_scenario_and_demo_changes_say_what_changed():
    class Log(DeclaredSandbox):
        tables = (Table("entries", "/v1/entries", {"id": INTEGER, "text": STRING, "at": TIMESTAMP}, "id", cursor="at",
                        rows=10, append_only=True),
                  Table("notes", "/v1/notes", {"id": INTEGER, "text": STRING, "at": TIMESTAMP}, "id", cursor="at",
                        rows=10))

    log = Log()
    with pytest.raises(NotImplementedError):
        log.scenario("entries", "update", 1)
    assert log.demo_changes() == "entries +5, notes +5 ~5"
    assert len(log.truth("entries").records) == 15 and log.describe() == "15 entries, 15 notes"


class ChargesSandbox(DeclaredSandbox):
    """Stripe's shape: epoch-second ``created`` (the only filter, a creation time),
    ``starting_after`` paging with ``has_more``, updates by POST, deletes answering 200."""

    auth = BearerAuth("sk_test")
    error_body = {"error": {"message": "{message}", "type": "invalid_request_error"}}
    tables = (
        Table("charges", "/v1/charges", {"id": STRING, "status": one_of("succeeded", "failed"), "note": STRING,
                                         "created": EPOCH_SECONDS, "metadata": obj(tier=STRING)},
              "id", cursor="created", rows=35, ties=6, cursor_moves_on_update=False, envelope="data",
              filters=(Filter("created[gte]", "created", ">="), Filter("created[gt]", "created", ">"),
                       Filter("status[ne]", "status", "!=")),
              paging=StartingAfterPaging(max_size=100), writes=("create", "update", "delete"), update_method="POST",
              delete_body=lambda r: {"id": r["id"], "object": "charge", "deleted": True}),
    )


def test_stripe_shaped_paging_epoch_seconds_form_writes_and_200_deletes():
    from sources.http import HttpClient
    from sources.toolkit import StartingAfterPaginator, parse_instant

    with ChargesSandbox() as sandbox:
        client = HttpClient(sandbox.url, headers={"Authorization": "Bearer sk_test"})
        truth = sandbox.truth("charges")
        read = [r for page in client.paginate("/v1/charges", StartingAfterPaginator(limit=4)) for r in page]
        assert sorted(r["id"] for r in read) == sorted(r["id"] for r in truth.records.values())
        assert client.request_count == 9  # 35 records, 4 a page: has_more ends it, no empty page
        assert all(isinstance(r["created"], int) for r in read)  # epoch seconds
        newest = truth.newest()
        assert isinstance(newest, int) and parse_instant(newest).year >= 2024
        ties = [r for r in read if r["created"] == newest]
        assert len(ties) == 6
        after = client.request("GET", "/v1/charges", params={"created[gt]": newest - 1, "limit": 100}).json()
        assert {r["id"] for r in after["data"]} == {r["id"] for r in ties} and after["has_more"] is False
        inclusive = client.request("GET", "/v1/charges", params={"created[gte]": newest, "limit": 100}).json()
        assert len(inclusive["data"]) == 6
        exclusive = client.request("GET", "/v1/charges", params={"created[gt]": newest, "limit": 100}).json()
        assert exclusive["data"] == []
        failed = client.request("GET", "/v1/charges", params={"status[ne]": "succeeded", "limit": 100}).json()
        assert failed["data"] and {r["status"] for r in failed["data"]} == {"failed"}
        unknown = client.request("GET", "/v1/charges", params={"starting_after": "ch_nope"}, ok_statuses=(400,))
        assert unknown.status_code == 400 and "No such object" in unknown.json()["error"]["message"]

        made = client.request("POST", "/v1/charges", data={"note": "form", "metadata": {"tier": "pro"}}).json()
        assert made["note"] == "form" and made["metadata"] == {"tier": "pro"}
        updated = client.request("POST", f"/v1/charges/{made['id']}", data={"note": "edited"}).json()
        assert updated["note"] == "edited" and updated["created"] == made["created"]  # a creation time stays
        gone = client.request("DELETE", f"/v1/charges/{made['id']}")
        assert gone.status_code == 200 and gone.json() == {"id": made["id"], "object": "charge", "deleted": True}
        assert (json.dumps(made["id"]),) in sandbox.truth("charges").deleted
        with pytest.raises(NotImplementedError, match="creation time"):
            sandbox.scenario("charges", "tie_update", 1)
        tied = sandbox.scenario("charges", "tie", 2)
        assert [r["created"] for r in tied] == [newest, newest]


class WrappedSandbox(DeclaredSandbox):
    """Zendesk's shape: basic auth as ``email/token:token``, a listing whose body names the next
    page's URL and an end flag, writes elsewhere than the listing, bodies wrapped in a key."""

    auth = BasicAuth("ada@example.com", "t0ken", user_suffix="/token")
    tables = (
        Table("orgs", "/api/v2/incremental/orgs", {"id": INTEGER, "name": STRING, "updated_at": TIMESTAMP}, "id",
              cursor="updated_at", rows=23, envelope="orgs", paging=OffsetPaging(size_param="per_page", max_size=10,
                                                                                 default_size=10),
              writes=("create", "update"), write_path="/api/v2/orgs", body_key="org", update_method="PUT"),
    )

    def extra_routes(self):
        routes = super().extra_routes()
        lister = routes[0][2]

        def with_links(request, **params):
            response = lister(request, **params)
            body = json.loads(response.body)
            start, size = int(request.arg("offset", "0")), 10
            done = start + size >= len(self.rows["orgs"])
            body.update(end_of_stream=done, next_page=None if done else f"?offset={start + size}&per_page={size}")
            return Response.json(body)
        return [(routes[0][0], routes[0][1], with_links), *routes[1:]]


def test_basic_auth_body_url_paging_wrapped_writes_to_their_own_path():
    import base64
    from sources.http import HttpClient, HttpError
    from sources.toolkit import BodyUrlPaginator

    with WrappedSandbox() as sandbox:
        assert sandbox.connection_options() == {"base_url": sandbox.url, "email": "ada@example.com", "api_token": "t0ken"}
        basic = base64.b64encode(b"ada@example.com/token:t0ken").decode()
        client = HttpClient(sandbox.url, headers={"Authorization": f"Basic {basic}"})
        read = [r for page in client.paginate("/api/v2/incremental/orgs", BodyUrlPaginator("next_page", "end_of_stream", "orgs"),
                                              params={"per_page": 10}) for r in page]
        assert sorted(r["id"] for r in read) == sorted(sandbox.rows["orgs"]) and client.request_count == 3

        made = client.request("POST", "/api/v2/orgs", json={"org": {"name": "Acme"}})
        assert made.status_code == 201 and made.json()["org"]["name"] == "Acme"
        edited = client.request("PUT", f"/api/v2/orgs/{made.json()['org']['id']}", json={"org": {"name": "Acme Inc"}})
        assert edited.json()["org"]["name"] == "Acme Inc"
        unwrapped = client.request("POST", "/api/v2/orgs", json={"name": "bare"}, ok_statuses=(400,))
        assert unwrapped.status_code == 400 and "'org'" in unwrapped.text

        wrong = HttpClient(sandbox.url, headers={"Authorization": "Basic " + base64.b64encode(b"ada@example.com:t0ken").decode()})
        with pytest.raises(HttpError) as failure:
            wrong.request("GET", "/api/v2/incremental/orgs")  # the token without the /token suffix
        assert failure.value.status == 401


def test_body_url_paginator_refuses_a_page_that_is_not_the_last_but_names_no_next():
    from sources.toolkit import BodyUrlPaginator, PageError

    pager = BodyUrlPaginator("nextPage", "isLast", "values")
    assert pager.check({"values": [], "isLast": "maybe"}) == "'isLast' must be true or false, got 'maybe'"
    assert pager.check({"values": []}) == "the page has no 'isLast'"
    with pytest.raises(PageError, match="'isLast' is false but the page has no 'nextPage'"):
        pager.next_request({}, {"values": [1], "isLast": False}, None)
    assert BodyUrlPaginator("next", records_path="values").next_request({}, {"values": [1], "next": None}, None) is None
