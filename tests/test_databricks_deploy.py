"""``lakeflow pipeline deploy --target databricks`` and the ``databricks`` Spark target.

The deploy runs a real ``databricks.sdk.WorkspaceClient`` against ``responses``: only the
Databricks REST calls are mocked, so the tests pin the exact requests the SDK sends (folder,
uploads, pipeline lookup, create or edit), how 401/403 read, and that the token is never
printed or logged (the SDK logs request and response bodies at DEBUG)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import logging
import sys
import textwrap
import types
import zipfile
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from databricks.sdk import WorkspaceClient

from harness.databricks import deploy as deploy_module
from harness.databricks import session as session_module
from harness.databricks.deploy import DeployError, build_wheel, deploy, start_update
from harness.databricks.session import TargetUnavailable, databricks_session
from harness.spark import session_for
from harness.databricks.workspace import DatabricksConfigError, workspace_client
from harness.pipeline.spec import TablePlan, load_spec
from harness.spark import PROJECT_ROOT

HOST = "https://example.cloud.databricks.com"
TOKEN = "dapi-secret-123"
WORKSPACE_DIR = "/Users/me@example.com/lakeflow/shop"
FS_DIR = "/Workspace" + WORKSPACE_DIR
WHEEL_NAME = "lakeflow_community_connectors-0.1.0+gabc123abc123-py3-none-any.whl"

SPEC = """\
    name: shop
    source: example
    connection: shop_conn
    destination:
      catalog: main
      schema: shop
    tables:
      - source_table: products
      - source_table: customers
      - source_table: events
"""
PLANS = [
    TablePlan("products", "products", "snapshot", 1, ["product_id"], None),
    TablePlan("customers", "customers", "cdc", 1, ["customer_id"], "updated_at"),
    TablePlan("events", "events", "append", 1, [], "event_id", {"page_size": "500"}),
]
EXPECTED_SETTINGS = {
    "name": "shop",
    "catalog": "main",
    "schema": "shop",
    "serverless": True,
    "continuous": False,
    "development": False,
    "channel": "CURRENT",
    "libraries": [{"file": {"path": f"{FS_DIR}/shop_pipeline.py"}}],
    "environment": {"dependencies": [f"{FS_DIR}/{WHEEL_NAME}"]},
    "configuration": {"spark.databricks.unityCatalog.connectionDfOptionInjection.enabled": "true"},
}


def _spec(tmp_path: Path, body: str = SPEC):
    path = tmp_path / "shop.yaml"
    path.write_text(textwrap.dedent(body))
    return load_spec(path)


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    path = tmp_path / "dist" / WHEEL_NAME
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("datasource/__init__.py", "")
    return path


@pytest.fixture
def api():
    """Mocked Databricks REST API; the SDK's host discovery (made when the client is built) gets a 404."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{HOST}/.well-known/databricks-config", status=404, json={"error_code": "NOT_FOUND", "message": "no"})
        yield rsps


@pytest.fixture
def client(api) -> WorkspaceClient:
    return WorkspaceClient(host=HOST, token=TOKEN)


def _ok_uploads(api) -> None:
    api.post(f"{HOST}/api/2.0/workspace/mkdirs", json={})
    api.post(f"{HOST}/api/2.0/workspace/import", json={})


def _sent(api) -> list[tuple[str, str]]:
    """(method, path?query) of every request after host discovery."""
    out = []
    for call in api.calls:
        url = urlparse(call.request.url)
        if url.path != "/.well-known/databricks-config":
            out.append((call.request.method, url.path + (f"?{url.query}" if url.query else "")))
    return out


def _calls(api, method: str, path: str):
    return [c.request for c in api.calls if c.request.method == method and urlparse(c.request.url).path == path]


def _multipart(request) -> dict[str, bytes]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode() + request.body)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}


def _deploy(client, tmp_path, wheel, lines=None, **kwargs):
    return deploy(client, _spec(tmp_path), PLANS, workspace_dir=WORKSPACE_DIR, wheel=wheel,
                  rendered_dir=tmp_path / "rendered", origin="shop.yaml",
                  progress=(lines.append if lines is not None else (lambda _line: None)), **kwargs)


# ------------------------------------------------------------------------------ deploy
def test_deploy_creates_pipeline_with_exact_requests(tmp_path, api, client, wheel):
    _ok_uploads(api)
    api.get(f"{HOST}/api/2.0/pipelines", json={"statuses": [{"pipeline_id": "p-other", "name": "shopX"}]})
    api.post(f"{HOST}/api/2.0/pipelines", json={"pipeline_id": "p-new"})
    lines: list[str] = []

    result = _deploy(client, tmp_path, wheel, lines)

    assert _sent(api) == [
        ("POST", "/api/2.0/workspace/mkdirs"),
        ("POST", "/api/2.0/workspace/import"),
        ("POST", "/api/2.0/workspace/import"),
        ("GET", "/api/2.0/pipelines?filter=name+LIKE+%27shop%27"),
        ("POST", "/api/2.0/pipelines"),
    ]
    mkdirs, = _calls(api, "POST", "/api/2.0/workspace/mkdirs")
    assert json.loads(mkdirs.body) == {"path": WORKSPACE_DIR}
    source_upload, wheel_upload = (_multipart(r) for r in _calls(api, "POST", "/api/2.0/workspace/import"))
    rendered = (tmp_path / "rendered" / "shop_pipeline.py").read_bytes()
    assert source_upload == {"path": f"{WORKSPACE_DIR}/shop_pipeline.py".encode(), "format": b"AUTO",
                             "overwrite": b"true", "content": rendered}
    assert wheel_upload == {"path": f"{WORKSPACE_DIR}/{WHEEL_NAME}".encode(), "format": b"AUTO",
                            "overwrite": b"true", "content": wheel.read_bytes()}
    assert b"CONNECTION = 'shop_conn'" in rendered
    listing, = _calls(api, "GET", "/api/2.0/pipelines")
    assert parse_qs(urlparse(listing.url).query) == {"filter": ["name LIKE 'shop'"]}
    create, = _calls(api, "POST", "/api/2.0/pipelines")
    assert json.loads(create.body) == EXPECTED_SETTINGS
    assert create.headers["Authorization"] == f"Bearer {TOKEN}"

    assert (result.pipeline_id, result.url, result.created) == ("p-new", f"{HOST}/pipelines/p-new", True)
    assert (result.source_path, result.wheel_path) == (f"{FS_DIR}/shop_pipeline.py", f"{FS_DIR}/{WHEEL_NAME}")
    assert lines == [
        f"uploaded shop_pipeline.py to {HOST} {FS_DIR}/",
        f"uploaded {WHEEL_NAME} to {HOST} {FS_DIR}/",
        "created pipeline shop (p-new) publishing to main.shop",
        f"pipeline: {HOST}/pipelines/p-new",
    ]


def test_deploy_edits_the_existing_pipeline(tmp_path, api, client, wheel):
    _ok_uploads(api)
    api.get(f"{HOST}/api/2.0/pipelines", json={"statuses": [
        {"pipeline_id": "p-like", "name": "shopa"}, {"pipeline_id": "p-1", "name": "shop"}]})
    api.put(f"{HOST}/api/2.0/pipelines/p-1", json={})

    # A /Workspace prefix and a trailing slash name the same folder.
    result = deploy(client, _spec(tmp_path), PLANS, workspace_dir=f"/Workspace{WORKSPACE_DIR}/", wheel=wheel,
                    rendered_dir=tmp_path / "rendered", development=True, progress=lambda _line: None)

    assert _sent(api)[-2:] == [("GET", "/api/2.0/pipelines?filter=name+LIKE+%27shop%27"), ("PUT", "/api/2.0/pipelines/p-1")]
    assert _calls(api, "POST", "/api/2.0/pipelines") == []
    edit, = _calls(api, "PUT", "/api/2.0/pipelines/p-1")
    assert json.loads(edit.body) == {**EXPECTED_SETTINGS, "development": True}
    assert json.loads(_calls(api, "POST", "/api/2.0/workspace/mkdirs")[0].body) == {"path": WORKSPACE_DIR}
    assert (result.pipeline_id, result.created, result.url) == ("p-1", False, f"{HOST}/pipelines/p-1")


def test_two_pipelines_with_the_name_is_an_error(tmp_path, api, client, wheel):
    _ok_uploads(api)
    api.get(f"{HOST}/api/2.0/pipelines", json={"statuses": [
        {"pipeline_id": "p-1", "name": "shop"}, {"pipeline_id": "p-2", "name": "shop"}]})
    with pytest.raises(DeployError, match=r"2 pipelines are named 'shop' .*\(p-1, p-2\)"):
        _deploy(client, tmp_path, wheel)


def test_start_update(api, client):
    api.post(f"{HOST}/api/2.0/pipelines/p-1/updates", json={"update_id": "u-9"})
    assert start_update(client, "p-1", full_refresh=True) == "u-9"
    assert json.loads(_calls(api, "POST", "/api/2.0/pipelines/p-1/updates")[0].body) == {"full_refresh": True}


def test_start_update_refreshes_only_the_selected_tables(api, client):
    api.post(f"{HOST}/api/2.0/pipelines/p-1/updates", json={"update_id": "u-10"})
    assert start_update(client, "p-1", full_refresh_selection=["orders", "customers"]) == "u-10"
    body = json.loads(_calls(api, "POST", "/api/2.0/pipelines/p-1/updates")[0].body)
    assert body == {"full_refresh": False, "full_refresh_selection": ["orders", "customers"]}
    with pytest.raises(DeployError, match="not both"):
        start_update(client, "p-1", full_refresh=True, full_refresh_selection=["orders"])


# ------------------------------------------------------------------------------ errors
def test_401_names_host_and_fix_without_the_token(tmp_path, api, client, wheel):
    api.post(f"{HOST}/api/2.0/workspace/mkdirs", status=401,
             json={"error_code": "UNAUTHENTICATED", "message": "Invalid access token."})
    with pytest.raises(DeployError) as err:
        _deploy(client, tmp_path, wheel)
    message = str(err.value)
    assert f"Databricks at {HOST} rejected the credentials (401) while creating the workspace folder {WORKSPACE_DIR}" in message
    assert "DATABRICKS_TOKEN" in message and "databricks auth login" in message and TOKEN not in message


def test_403_on_the_folder_names_the_permission(tmp_path, api, client, wheel):
    api.post(f"{HOST}/api/2.0/workspace/mkdirs", json={})
    api.post(f"{HOST}/api/2.0/workspace/import", status=403,
             json={"error_code": "PERMISSION_DENIED", "message": "no write access"})
    with pytest.raises(DeployError) as err:
        _deploy(client, tmp_path, wheel)
    message = str(err.value)
    assert f"Databricks at {HOST} denied uploading shop_pipeline.py to {WORKSPACE_DIR} (403)" in message
    assert f"CAN MANAGE on the workspace folder {WORKSPACE_DIR}" in message and "--workspace-dir" in message


def test_403_on_create_names_the_catalog_privileges(tmp_path, api, client, wheel):
    _ok_uploads(api)
    api.get(f"{HOST}/api/2.0/pipelines", json={})
    api.post(f"{HOST}/api/2.0/pipelines", status=403,
             json={"error_code": "PERMISSION_DENIED", "message": "User does not have USE CATALOG on main"})
    with pytest.raises(DeployError) as err:
        _deploy(client, tmp_path, wheel)
    message = str(err.value)
    assert f"Databricks at {HOST} denied creating pipeline 'shop' (403)" in message
    assert "permission to create pipelines" in message and "USE CATALOG on main" in message
    assert "CREATE TABLE and CREATE MATERIALIZED VIEW on main.shop" in message


def test_403_on_edit_names_can_manage(tmp_path, api, client, wheel):
    _ok_uploads(api)
    api.get(f"{HOST}/api/2.0/pipelines", json={"statuses": [{"pipeline_id": "p-1", "name": "shop"}]})
    api.put(f"{HOST}/api/2.0/pipelines/p-1", status=403, json={"error_code": "PERMISSION_DENIED", "message": "denied"})
    with pytest.raises(DeployError, match=r"denied editing pipeline 'shop' \(p-1\) \(403\).*CAN MANAGE on pipeline p-1"):
        _deploy(client, tmp_path, wheel)


@pytest.mark.parametrize("destination, key", [
    ("schema: shop", "destination.catalog is missing"),
    ("path: /tmp/tables", "destination.path ('/tmp/tables') is for local runs"),
])
def test_destination_needs_catalog_and_schema(tmp_path, api, client, wheel, destination, key):
    spec = _spec(tmp_path, SPEC.replace("catalog: main\n      schema: shop", destination))
    with pytest.raises(DeployError) as err:
        deploy(client, spec, PLANS, workspace_dir=WORKSPACE_DIR, wheel=wheel, rendered_dir=tmp_path / "r",
               origin="shop.yaml", progress=lambda _line: None)
    assert str(err.value).startswith(f"shop.yaml: {key}")
    assert "destination.catalog" in str(err.value) and "Unity Catalog" in str(err.value)
    assert _sent(api) == []


def test_render_problems_are_deploy_errors(tmp_path, api, client, wheel, monkeypatch):
    def broken(spec, plans, output, origin):
        raise KeyError("scd_type")

    monkeypatch.setattr(deploy_module, "render_databricks", broken)
    with pytest.raises(DeployError, match=r"rendering pipeline 'shop' into .* failed: 'scd_type'"):
        _deploy(client, tmp_path, wheel)

    def invalid(spec, plans, output, origin):
        output.mkdir(parents=True, exist_ok=True)
        (output / "shop_pipeline.py").write_text("def broken(:\n")
        return [output / "shop_pipeline.py"]

    monkeypatch.setattr(deploy_module, "render_databricks", invalid)
    with pytest.raises(DeployError, match=r"not valid Python \(line 1: .*harness/pipeline/render.py"):
        _deploy(client, tmp_path, wheel)
    assert _sent(api) == []


@pytest.mark.parametrize("workspace_dir", ["/Volumes/main/shop/files", "/Workspace", "/Users"])
def test_workspace_dir_must_be_a_folder_of_ones_own(tmp_path, api, client, wheel, workspace_dir):
    with pytest.raises(DeployError, match="give a workspace folder of your own"):
        deploy(client, _spec(tmp_path), PLANS, workspace_dir=workspace_dir, wheel=wheel,
               rendered_dir=tmp_path / "r", progress=lambda _line: None)


def test_missing_wheel(tmp_path, api, client):
    with pytest.raises(DeployError, match="is not a .whl file"):
        _deploy(client, tmp_path, tmp_path / "nope.whl")


# ------------------------------------------------------------------------------ secrets
def test_token_never_logged_or_printed(tmp_path, api, client, wheel, caplog, capsys):
    _ok_uploads(api)
    api.get(f"{HOST}/api/2.0/pipelines", json={"statuses": [{"pipeline_id": "p-1", "name": "shop"}]})
    api.put(f"{HOST}/api/2.0/pipelines/p-1", json={})
    api.post(f"{HOST}/api/2.0/pipelines/p-1/updates", json={"update_id": "u-1"})
    with caplog.at_level(logging.DEBUG):
        result = deploy(client, _spec(tmp_path), PLANS, workspace_dir=WORKSPACE_DIR, wheel=wheel,
                        rendered_dir=tmp_path / "rendered")  # progress=print
        start_update(client, result.pipeline_id)
        print(result)
    out, err = capsys.readouterr()
    assert "PUT /api/2.0/pipelines/p-1" in caplog.text  # the SDK did log the requests at DEBUG
    assert f"pipeline: {HOST}/pipelines/p-1" in out
    for text in (caplog.text, out, err):
        assert TOKEN not in text and "Bearer" not in text
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in api.calls[1:])


def test_debug_headers_would_log_the_token_so_deploy_refuses(tmp_path, api, wheel):
    client = WorkspaceClient(host=HOST, token=TOKEN, debug_headers=True)
    with pytest.raises(DeployError, match="debug_headers.*Authorization header") as err:
        _deploy(client, tmp_path, wheel)
    assert TOKEN not in str(err.value) and _sent(api) == []


# ------------------------------------------------------------------------------ the wheel
def test_build_wheel_is_a_runtime_wheel_and_cached(tmp_path):
    wheel = build_wheel(PROJECT_ROOT, tmp_path / "dist")
    assert wheel.parent == tmp_path / "dist"
    assert wheel.name.startswith("lakeflow_community_connectors-0.1.0+g") and wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {"datasource/__init__.py", "sources/interface/__init__.py", "harness/pipeline/connection.py"} <= set(names)
    assert not [n for n in names if n.endswith("dev_config.json") or "__pycache__" in n]
    assert not [n for n in names if "/test/" in n], "the Databricks wheel ships no tests"
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and all("extra ==" in line for line in requires)  # no pyspark / delta-spark for the runtime


def test_build_wheel_reuses_the_wheel_of_the_same_sources(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text((PROJECT_ROOT / "pyproject.toml").read_text())
    (project / "README.md").write_text("# test\n")
    for package in deploy_module.PACKAGES:
        (project / package).mkdir()
        (project / package / "__init__.py").write_text(f"NAME = {package!r}\n")
    wheel = build_wheel(project, tmp_path / "dist")
    # Same sources: no build (the command would fail), the same file.
    assert build_wheel(project, tmp_path / "dist", python="/no/python") == wheel
    (project / "sources" / "__init__.py").write_text("NAME = 'changed'\n")
    with pytest.raises(DeployError, match="building the wheel failed"):
        build_wheel(project, tmp_path / "dist", python="/no/python")
    assert not (project / "build").exists() and not list(project.glob("*.egg-info"))


def test_shipped_files_skip_local_credentials(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    for package in deploy_module.PACKAGES:
        (tmp_path / package / "sub" / "__pycache__").mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "sub" / "dev_config.json").write_text('{"access_token": "real"}')
        (tmp_path / package / "sub" / "meta.json").write_text("{}")
        (tmp_path / package / "sub" / "__pycache__" / "x.pyc").write_text("")
        (tmp_path / package / "sub" / "test").mkdir()
        (tmp_path / package / "sub" / "test" / "test_it.py").write_text("")
    shipped = {p.relative_to(tmp_path).as_posix() for p in deploy_module._shipped_files(tmp_path)}
    assert shipped == {"pyproject.toml"} | {f"{p}/__init__.py" for p in deploy_module.PACKAGES} | {
        f"{p}/sub/meta.json" for p in deploy_module.PACKAGES}


def test_build_wheel_failure_names_the_command(tmp_path):
    with pytest.raises(DeployError, match=r"building the wheel failed: `/no/python -m pip wheel --no-deps -w "):
        build_wheel(PROJECT_ROOT, tmp_path / "dist", python="/no/python")


# ------------------------------------------------------------------------------ session
@pytest.fixture
def no_databricks_env(monkeypatch, tmp_path):
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLUSTER_ID",
                 "DATABRICKS_SERVERLESS_COMPUTE_ID", "DATABRICKS_CLIENT_ID", "DATABRICKS_AUTH_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "databrickscfg"))
    return tmp_path / "databrickscfg"


@pytest.fixture
def connect_missing(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "databricks.connect" else real(name, *a))


def test_databricks_session_without_databricks_connect(no_databricks_env, connect_missing):
    with pytest.raises(TargetUnavailable) as err:
        databricks_session()
    message = str(err.value)
    assert "the databricks-connect package is not installed" in message
    assert f"Python {sys.version.split()[0]}" in message and "needs Python 3.12" in message
    assert "python3.12 -m venv .venv-databricks" in message
    assert ".venv-databricks/bin/pip install 'databricks-connect==" in message and "--no-deps -e ." in message
    install_line = next(line for line in message.splitlines() if "bin/pip install 'databricks-connect" in line)
    assert "'pydantic>=2.7,<3'" in install_line and "pyspark" not in install_line and "delta-spark" not in install_line
    for variable in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE",
                     "DATABRICKS_SERVERLESS_COMPUTE_ID=auto", "DATABRICKS_CLUSTER_ID"):
        assert variable in message


def test_configured_workspace_leaves_only_the_package(no_databricks_env, connect_missing, monkeypatch):
    no_databricks_env.write_text("[dev]\nhost = https://example.cloud.databricks.com\nauth_type = databricks-cli\n"
                                 "serverless_compute_id = auto\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "dev")
    problems = session_module.databricks_problems()
    assert len(problems) == 1 and "databricks-connect package is not installed" in problems[0]

    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "other")
    monkeypatch.setenv("DATABRICKS_HOST", HOST)
    problems = session_module.databricks_problems()
    assert [p.split(":")[0] for p in problems[1:]] == ["no credentials", "no compute"]


def test_databricks_session_uses_databricks_connect(no_databricks_env, monkeypatch):
    used = []

    class Builder:
        def profile(self, name):
            used.append(name)
            return self

        def getOrCreate(self):
            return "session"

    fake = types.ModuleType("databricks.connect")
    fake.__spec__ = importlib.machinery.ModuleSpec("databricks.connect", None)
    fake.DatabricksSession = types.SimpleNamespace(builder=Builder())
    monkeypatch.setitem(sys.modules, "databricks.connect", fake)
    monkeypatch.setattr(session_module.metadata, "version",
                        lambda name: (_ for _ in ()).throw(session_module.metadata.PackageNotFoundError(name)))
    no_databricks_env.write_text(f"[dev]\nhost = {HOST}\ntoken = x\ncluster_id = 0101-abc\n")
    assert databricks_session("dev") == "session" and used == ["dev"]


def test_target_session_dispatch():
    with pytest.raises(ValueError, match="unknown target 'cloud'; choose one of local, connect, databricks"):
        session_for("cloud")
    with pytest.raises(TargetUnavailable, match="sc:// URL"):
        session_for("connect", remote=None)


def test_default_workspace_dir_is_the_callers_folder(tmp_path, api, client):
    api.get(f"{HOST}/api/2.0/preview/scim/v2/Me", json={"userName": "me@example.com"})
    assert deploy_module.default_workspace_dir(client, _spec(tmp_path)) == WORKSPACE_DIR


def test_workspace_client_without_configuration(no_databricks_env):
    with pytest.raises(DatabricksConfigError, match=r"Databricks is not configured \(the environment\): set "
                                                    "DATABRICKS_HOST .* and DATABRICKS_TOKEN, or DATABRICKS_CONFIG_PROFILE"):
        workspace_client()
