"""Unity Catalog connections (:mod:`harness.databricks.uc`) and reads through one.

The Databricks REST API is mocked with ``responses`` under a real ``WorkspaceClient``; every
request it sends is registered (the SDK fetches ``/.well-known/databricks-config`` while it
is built), and a catch-all answers anything else with an error so that an unexpected call
fails at once instead of being retried. The runtime half reads the HubSpot sandbox with
options in the form Databricks injects them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import pytest
import responses
from databricks.sdk import WorkspaceClient

from datasource.connector_session import ConnectorSession
from datasource.options import ReadOptions
from harness.databricks import uc
from harness.databricks.workspace import DatabricksConfigError, workspace_client
from harness.databricks.uc import UcError
from sources.hubspot.sandbox import HubSpotSandbox
from datasource.registry import connector_class
from sources.hubspot import HubSpotLakeflowConnect

ROOT = Path(__file__).resolve().parents[1]
HOST = "https://example.cloud.databricks.com"
DATABRICKS_TOKEN = "dapi-secret-123"
SERVICE_KEY = "pat-na2-11111111-2222-3333-4444-555555555555"
WELL_KNOWN = f"{HOST}/.well-known/databricks-config"
CONNECTIONS = f"{HOST}/api/2.1/unity-catalog/connections"
RUNTIME = "tableName,tableNameList,tableConfigs,isDeleteFlow,maxRecordsPerBatch"
HUBSPOT_TABLE_OPTIONS = ("properties,associations,start_date,lookback_seconds,page_size,partitions,concurrency,"
                         "ten_second_limit,search_per_second")


@pytest.fixture
def no_databricks_config(monkeypatch, tmp_path):
    """No DATABRICKS_* variable and no ~/.databrickscfg: only what a test sets."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "LAKEFLOW_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def api(no_databricks_config):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, WELL_KNOWN, json={"oidc_endpoint": f"{HOST}/oidc", "workspace_id": "1234567890"})
        yield mock


def _catch_all(mock: responses.RequestsMock) -> None:
    """Register last: any request not registered before fails fast (the SDK would retry a
    connection error for minutes)."""
    for method in (responses.GET, responses.POST, responses.PATCH, responses.PUT, responses.DELETE):
        mock.add(method, re.compile(".*"), status=418, json={"error_code": "UNEXPECTED_CALL", "message": "unexpected"})


@pytest.fixture
def client(api):
    return workspace_client(host=HOST, token=DATABRICKS_TOKEN, retry_timeout_seconds=2)


def _info(name: str, options: dict) -> dict:
    """A connection as Databricks answers it; worst case, the options echo the secret."""
    return {"name": name, "full_name": name, "connection_type": "COMMUNITY", "options": options,
            "owner": "ana@example.com", "created_at": 1764320000000, "created_by": "ana@example.com",
            "connection_id": "0f6b3c9e-0000-4000-8000-000000000001", "securable_type": "CONNECTION"}


def _paths(mock: responses.RequestsMock) -> list[str]:
    return [f"{c.request.method} {c.request.url}" for c in mock.calls]


# ---------------------------------------------------------------------------------------------
# the request
# ---------------------------------------------------------------------------------------------
def test_create_posts_the_community_connection_and_nothing_else(api):
    api.add(responses.POST, CONNECTIONS, json=_info("hubspot_conn", {}))
    _catch_all(api)
    client = WorkspaceClient(host=HOST, token=DATABRICKS_TOKEN)

    result = uc.create_connection(client, "hubspot", "hubspot_conn", {"service_key": SERVICE_KEY},
                                  comment="HubSpot CRM")

    assert result["name"] == "hubspot_conn"
    # Building the client fetches the host metadata, without credentials; then one POST.
    assert _paths(api) == [f"GET {WELL_KNOWN}", f"POST {CONNECTIONS}"]
    assert "Authorization" not in api.calls[0].request.headers
    post = api.calls[1].request
    assert post.headers["Authorization"] == f"Bearer {DATABRICKS_TOKEN}"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body) == {
        "name": "hubspot_conn",
        "connection_type": "COMMUNITY",
        "options": {"sourceName": "lakeflow_hubspot", "service_key": SERVICE_KEY,
                    "externalOptionsAllowList": f"{HUBSPOT_TABLE_OPTIONS},{RUNTIME}"},
        "comment": "HubSpot CRM",
    }


def test_chosen_table_options_and_lower_cased_connection_options(client, api):
    api.add(responses.POST, CONNECTIONS, json=_info("ex", {}))
    _catch_all(api)
    uc.create_connection(client, "example", "ex", {"Access_Token": "tok-abc", "BASE_URL": "http://10.0.0.5:8765"},
                         allow_table_options=["partition_size"])
    body = json.loads(api.calls[-1].request.body)
    assert body["options"] == {"sourceName": "lakeflow_example", "access_token": "tok-abc",
                               "base_url": "http://10.0.0.5:8765", "externalOptionsAllowList": f"partition_size,{RUNTIME}"}
    assert body["comment"] == "Lakeflow community connector lakeflow_example"

    request = uc.connection_request("hubspot", "h", {"service_key": "k"}, ["properties", "start_date, page_size",
                                                                           "properties"])
    assert request["options"]["externalOptionsAllowList"] == f"properties,start_date,page_size,{RUNTIME}"
    assert uc.connection_request("hubspot", "h", {"service_key": "k"}, [])["options"][
        "externalOptionsAllowList"] == RUNTIME


@pytest.mark.parametrize("args, message", [
    (("nosuch", "c", {"token": "x"}), "Unknown source 'nosuch'. Available sources: example, github, hubspot"),
    (("hubspot", "c", {"service_key": "k", "api_key": "x"}),
     "'api_key' is not a connection option of hubspot. Valid options: service_key, access_token, base_url, "
     "connect_timeout, read_timeout, retry_max_attempts, retry_base_delay, retry_max_delay, request_deadline."),
    (("hubspot", "c", {"service_key": "k", "ten_second_limit": "190"}),
     "It is a table option: set it on each read with .option('ten_second_limit', ...)"),
    (("hubspot", "c", {"service_key": "k", "externalOptionsAllowList": "x"}), "use --allow-table-option"),
    (("hubspot", "c", {"service_key": "k"}, ["properties", "max_records_per_call"]),
     "--allow-table-option 'max_records_per_call' is not a table option of hubspot. Valid table options: "
     f"{HUBSPOT_TABLE_OPTIONS.replace(',', ', ')}."),
    (("example", "c", {"access_token": "t"}, ["page_size"]), "Valid table options: partition_size."),
    (("hubspot", "c", {"service_key": "k", "base_url": " "}), "connection option 'base_url' has an empty value"),
    (("hubspot", "c", {"service_key": "k", "read_timeout": "soon"}),
     "the hubspot connection options are not valid: HubSpot option 'read_timeout' must be a number, got 'soon'."),
    (("hubspot", "c", {"base_url": "https://api.hubapi.com"}), "HubSpot option 'service_key' is required"),
    (("hubspot", " ", {"service_key": "k"}), "a connection needs a name: --name <connection name>"),
])
def test_bad_requests_fail_before_any_http_call(client, api, args, message):
    _catch_all(api)
    before = len(api.calls)
    with pytest.raises(UcError) as caught:
        uc.create_connection(client, *args)
    assert message in str(caught.value)
    assert len(api.calls) == before


def test_option_names_match_the_readmes():
    """Each connector's CONNECTION_OPTIONS and TABLE_OPTIONS list what its README documents: the names in the
    first column of its table, plus older names the table mentions (example's ``request_timeout``)."""
    def table(text: str, heading: str) -> tuple[set[str], str]:
        rows = re.search(r"\n((?:\|.*\n)+)", text.split(f"\n{heading}\n", 1)[1]).group(1)
        first = {n for row in rows.splitlines() if row.startswith("| `")
                 for n in re.findall(r"`([A-Za-z_]+)`", row.split("|")[1])}
        return first, rows

    for source in ("hubspot", "example", "github", "stripe", "zendesk", "jira"):
        connector = connector_class(source)
        readme = (ROOT / "sources" / source / "README.md").read_text(encoding="utf-8")
        documented, rows = table(readme, "## Connection parameters")
        assert documented - {"externalOptionsAllowList"} <= set(connector.CONNECTION_OPTIONS.names), source
        assert all(f"`{name}`" in rows for name in connector.CONNECTION_OPTIONS.names), source
        assert table(readme, "## Table options")[0] == set(connector.TABLE_OPTIONS.names), source


# ---------------------------------------------------------------------------------------------
# secrets: never logged, never shown
# ---------------------------------------------------------------------------------------------
def test_sdk_debug_log_prints_request_bodies_in_clear(client, api, caplog):
    """Why :mod:`uc` silences the SDK's request log: at DEBUG it prints the body, secret and all."""
    api.add(responses.POST, CONNECTIONS, json={})
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="databricks.sdk")
    client.api_client.do("POST", "/api/2.1/unity-catalog/connections", body={"options": {"service_key": SERVICE_KEY}})
    assert SERVICE_KEY in caplog.text


def test_no_secret_in_debug_logs(client, api, caplog):
    options = {"sourceName": "lakeflow_hubspot", "service_key": SERVICE_KEY}
    api.add(responses.POST, CONNECTIONS, json=_info("hubspot_conn", options))
    api.add(responses.GET, f"{CONNECTIONS}/hubspot_conn", json=_info("hubspot_conn", options))
    api.add(responses.POST, CONNECTIONS, status=400,
            json={"error_code": "INVALID_PARAMETER_VALUE", "message": f"bad option service_key={SERVICE_KEY}"})
    _catch_all(api)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="databricks.sdk")

    uc.create_connection(client, "hubspot", "hubspot_conn", {"service_key": SERVICE_KEY})
    uc.get_connection(client, "hubspot_conn")
    with pytest.raises(UcError) as caught:
        uc.create_connection(client, "hubspot", "hubspot_conn", {"service_key": SERVICE_KEY})

    assert SERVICE_KEY not in str(caught.value) and "bad option service_key=***" in str(caught.value)
    assert SERVICE_KEY not in caplog.text and DATABRICKS_TOKEN not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name == "lakeflow.databricks"]
    assert any(m.startswith("POST /api/2.1/unity-catalog/connections") and "'service_key': '***'" in m for m in ours)
    assert logging.getLogger("databricks.sdk").level == logging.DEBUG   # restored after each call


def test_describe_masks_secrets(client, api):
    options = {"sourceName": "lakeflow_hubspot", "service_key": SERVICE_KEY, "base_url": "https://api.hubapi.com",
               "externalOptionsAllowList": f"properties,start_date,{RUNTIME}"}
    api.add(responses.GET, f"{CONNECTIONS}/hubspot_conn", json=_info("hubspot_conn", options))
    _catch_all(api)
    text = uc.describe(uc.get_connection(client, "hubspot_conn"))
    assert SERVICE_KEY not in text
    assert re.search(r"service_key\s+\*\*\*", text)
    assert re.search(r"base_url\s+https://api.hubapi.com", text)
    assert "source:   lakeflow_hubspot\n" in text and "owner:    ana@example.com" in text
    assert "allowed:  properties, start_date (table options a read may set)" in text
    assert 'spark.read.format("lakeflow_hubspot").option("databricks.connection", "hubspot_conn")' in text
    assert "warning" not in text

    other = uc.describe({"name": "old", "connection_type": "COMMUNITY",
                         "options": {"sourceName": "github", "client_secret": "s3cr3t-value"}})
    assert "s3cr3t-value" not in other and "(not a source of this project)" in other
    assert "lacks the runtime options tableName" in other


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("action, status, body, message", [
    ("create", 401, {"error_code": "UNAUTHENTICATED", "message": "Invalid access token."},
     "Databricks rejected the credentials (401) to create connection hubspot_conn: check DATABRICKS_HOST and "
     "DATABRICKS_TOKEN, or the profile in DATABRICKS_CONFIG_PROFILE (~/.databrickscfg)."),
    ("create", 403, {"error_code": "PERMISSION_DENIED", "message": "User does not have CREATE CONNECTION on Metastore"},
     "permission denied (403) to create connection hubspot_conn: you need the CREATE CONNECTION privilege on "
     "the metastore"),
    ("create", 409, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Connection 'hubspot_conn' already exists"},
     "connection hubspot_conn exists: `lakeflow uc delete hubspot_conn` first, or choose another --name"),
    ("create", 409, {"message": "already exists"},
     "connection hubspot_conn exists: `lakeflow uc delete hubspot_conn` first, or choose another --name"),
    ("create", 400, {"error_code": "CONNECTION_ALREADY_EXISTS", "message": "exists"},
     "connection hubspot_conn exists"),
    ("read", 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Connection 'hubspot_conn' does not exist."},
     "no connection named hubspot_conn"),
    ("delete", 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Connection 'hubspot_conn' does not exist."},
     "no connection named hubspot_conn"),
    ("delete", 403, {"error_code": "PERMISSION_DENIED", "message": "not the owner"},
     "permission denied (403) to delete connection hubspot_conn: you need to own the connection"),
    ("read", 500, {"error_code": "INTERNAL_ERROR", "message": "boom"},
     "Databricks refused to read connection hubspot_conn: INTERNAL_ERROR: boom"),
])
def test_http_errors_become_clear_messages(client, api, action, status, body, message):
    method = {"create": responses.POST, "read": responses.GET, "delete": responses.DELETE}[action]
    url = CONNECTIONS if action == "create" else f"{CONNECTIONS}/hubspot_conn"
    api.add(method, url, status=status, json=body)
    _catch_all(api)
    call = {"create": lambda: uc.create_connection(client, "hubspot", "hubspot_conn", {"service_key": SERVICE_KEY}),
            "read": lambda: uc.get_connection(client, "hubspot_conn"),
            "delete": lambda: uc.delete_connection(client, "hubspot_conn")}[action]
    with pytest.raises(UcError) as caught:
        call()
    assert message in str(caught.value)
    assert SERVICE_KEY not in str(caught.value) and DATABRICKS_TOKEN not in str(caught.value)


def test_unreachable_workspace(api):
    import requests

    client = workspace_client(host=HOST, token=DATABRICKS_TOKEN, retry_timeout_seconds=1)
    api.add(responses.GET, f"{CONNECTIONS}/hubspot_conn", body=requests.ConnectionError("connection refused"))
    with pytest.raises(UcError, match=rf"cannot reach Databricks at {HOST} to read connection hubspot_conn: TimeoutError: .*"
                                      r"\(check DATABRICKS_HOST and the network\)"):
        uc.get_connection(client, "hubspot_conn")


def test_delete_and_names_in_paths(client, api):
    api.add(responses.DELETE, f"{CONNECTIONS}/hubspot_conn", json={})
    api.add(responses.GET, f"{CONNECTIONS}/odd%20name", json=_info("odd name", {}))
    _catch_all(api)
    assert uc.delete_connection(client, "hubspot_conn") is None
    assert uc.get_connection(client, "odd name")["name"] == "odd name"
    assert _paths(api)[-2:] == [f"DELETE {CONNECTIONS}/hubspot_conn", f"GET {CONNECTIONS}/odd%20name"]


# ---------------------------------------------------------------------------------------------
# the workspace client and the credential
# ---------------------------------------------------------------------------------------------
def test_workspace_client_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("DATABRICKS_HOST", HOST)
    monkeypatch.setenv("DATABRICKS_TOKEN", DATABRICKS_TOKEN)
    api.add(responses.GET, f"{CONNECTIONS}/c", json=_info("c", {}))
    _catch_all(api)
    client = workspace_client(retry_timeout_seconds=2)
    uc.get_connection(client, "c")
    assert api.calls[-1].request.headers["Authorization"] == f"Bearer {DATABRICKS_TOKEN}"


def test_workspace_client_not_configured(no_databricks_config, monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", DATABRICKS_TOKEN)   # a token without a host
    with responses.RequestsMock() as mock:                        # and no request at all
        with pytest.raises(DatabricksConfigError) as caught:
            workspace_client()
        assert not mock.calls
    message = str(caught.value)
    assert message.startswith("Databricks is not configured (the environment): set DATABRICKS_HOST ")
    assert "DATABRICKS_CONFIG_PROFILE to a profile of ~/.databrickscfg" in message
    assert DATABRICKS_TOKEN not in message


def test_secret_options(no_databricks_config):
    def no_prompt(text):
        raise AssertionError("prompted")

    given = {"service_key": SERVICE_KEY, "base_url": "https://api.hubapi.com"}
    env = {"LAKEFLOW_HUBSPOT_ACCESS_TOKEN": "from-env"}
    # Given on the command line: the environment is not consulted (one credential only).
    assert uc.secret_options("hubspot", given, env, no_prompt) == given
    assert uc.secret_options("hubspot", {}, env, no_prompt) == {"access_token": "from-env"}
    assert uc.secret_options("hubspot", {}, {"LAKEFLOW_HUBSPOT_SERVICE_KEY": " k "}, no_prompt) == {"service_key": "k"}
    assert uc.secret_options("example", {}, {"LAKEFLOW_EXAMPLE_ACCESS_TOKEN": "t"}, no_prompt) == {"access_token": "t"}

    asked = []
    got = uc.secret_options("hubspot", {"base_url": "https://api.hubapi.com"}, {},
                            lambda text: asked.append(text) or "typed-key")
    assert got == {"base_url": "https://api.hubapi.com", "service_key": "typed-key"}
    assert asked == ["hubspot service_key (input hidden): "]

    with pytest.raises(UcError, match="LAKEFLOW_HUBSPOT_SERVICE_KEY and LAKEFLOW_HUBSPOT_ACCESS_TOKEN are both set"):
        uc.secret_options("hubspot", {}, {"LAKEFLOW_HUBSPOT_SERVICE_KEY": "a", "LAKEFLOW_HUBSPOT_ACCESS_TOKEN": "b"})
    with pytest.raises(UcError, match=r"no hubspot credential: pass --option service_key=<value> or set "
                                      r"LAKEFLOW_HUBSPOT_SERVICE_KEY\."):
        uc.secret_options("hubspot", {}, {}, prompt=None)
    with pytest.raises(UcError, match="no service_key was typed"):
        uc.secret_options("hubspot", {}, {}, lambda text: "")
    with pytest.raises(UcError, match="'sevice_key' is not a connection option of hubspot"):
        uc.secret_options("hubspot", {"sevice_key": "x"}, {}, no_prompt)   # checked before any prompt


# ---------------------------------------------------------------------------------------------
# the runtime: options as Databricks injects them from a connection
# ---------------------------------------------------------------------------------------------
def _injected(connection_options: dict, **read_options: str) -> dict:
    """A read's options as the data source receives them through a connection: the
    connection's options and the read's, names lower-cased, plus ``databricks.connection``."""
    return {k.lower(): v for k, v in {"databricks.connection": "hubspot_conn", **connection_options,
                                      **read_options}.items()}


def test_runtime_accepts_injected_options():
    options = _injected({"service_key": SERVICE_KEY, "base_url": "http://127.0.0.1:9"},
                        tableName="contacts", maxRecordsPerBatch="50", isDeleteFlow="false", properties="email")
    parsed = ReadOptions.parse(options)
    assert parsed.table_name == "contacts" and parsed.max_records_per_batch == 50 and not parsed.is_delete_flow
    assert parsed.connector_options == {"service_key": SERVICE_KEY, "base_url": "http://127.0.0.1:9",
                                        "properties": "email"}
    assert SERVICE_KEY not in repr(parsed)

    session = ConnectorSession(HubSpotLakeflowConnect, options)
    assert "databricks.connection" not in session.table_options and session.table_options["properties"] == "email"
    assert "databricks.connection" not in session.connector.options
    assert SERVICE_KEY not in repr(session)


def test_read_through_injected_options_against_the_sandbox():
    sandbox = HubSpotSandbox(seed=20, rate_limits=False).start()
    try:
        options = _injected(sandbox.connection_options(), tableName="contacts", properties="email,firstname",
                            ten_second_limit="100000", search_per_second="1000", lookback_seconds="0.5")
        session = ConnectorSession(HubSpotLakeflowConnect, options)
        records = [r for page in session.pages() for r in page.records]
        truth = sandbox.truth("contacts")
    finally:
        sandbox.stop()
    assert records and sorted(r["id"] for r in records) == sorted(r["id"] for r in truth.records.values())
    assert all({"email", "firstname"} <= set(r["properties"]) for r in records)
    assert all("lastname" not in r["properties"] for r in records)
    assert any("lastname" in r["properties"] for r in truth.records.values())


# ---------------------------------------------------------------------------------------------
# the CLI
# ---------------------------------------------------------------------------------------------
def test_cli_create_show_delete(api, monkeypatch, capsys):
    """`lakeflow uc create-connection hubspot --name N`: the key from the environment, never
    printed; show masks it; delete; errors are one line with exit 1."""
    from harness.cli import main

    monkeypatch.setenv("DATABRICKS_HOST", HOST)
    monkeypatch.setenv("DATABRICKS_TOKEN", DATABRICKS_TOKEN)
    monkeypatch.setenv("LAKEFLOW_HUBSPOT_SERVICE_KEY", SERVICE_KEY)
    echoed = {"sourceName": "lakeflow_hubspot", "service_key": SERVICE_KEY,
              "externalOptionsAllowList": f"properties,{RUNTIME}"}
    api.add(responses.POST, CONNECTIONS, json=_info("hs", echoed))
    api.add(responses.GET, f"{CONNECTIONS}/hs", json=_info("hs", echoed))
    api.add(responses.DELETE, f"{CONNECTIONS}/hs", json={})
    _catch_all(api)

    assert main(["uc", "create-connection", "hubspot", "--name", "hs", "--allow-table-option", "properties"]) == 0
    assert main(["uc", "show", "hs"]) == 0
    assert main(["uc", "delete", "hs"]) == 0
    out = capsys.readouterr()
    assert "created connection hs" in out.out and "deleted connection hs" in out.out
    assert "lakeflow_hubspot" in out.out and SERVICE_KEY not in out.out + out.err
    assert DATABRICKS_TOKEN not in out.out + out.err
    body = json.loads(next(c.request.body for c in api.calls if c.request.method == "POST"))
    assert body["options"]["service_key"] == SERVICE_KEY and body["options"]["externalOptionsAllowList"] == \
        f"properties,{RUNTIME}"

    assert main(["uc", "create-connection", "hubspot", "--name", "hs", "--option", "api_key=x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lakeflow uc create-connection: error: 'api_key' is not a connection option of hubspot")
