"""One loader of connection settings (:mod:`harness.connection_settings`): the environment
over ``dev_config.json``, where each value came from, no value ever shown; and the suite's live
mode, pipelines and UC connections all read through it."""

from __future__ import annotations

import json

import pytest

from harness import connection_settings
from harness.connection_settings import ConnectionSettingsError, connection_options, dev_config_path, env_name, load
from harness.spark import PROJECT_ROOT

SECRET = "pat-na2-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No LAKEFLOW_ACME_*/HUBSPOT_* variable; dev_config.json files point into tmp_path."""
    import os

    for name in list(os.environ):
        if name.startswith(("LAKEFLOW_ACME_", "LAKEFLOW_HUBSPOT_", "LAKEFLOW_MY_CONN_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LAKEFLOW_ACME_DEV_CONFIG", str(tmp_path / "acme.json"))
    monkeypatch.setenv("LAKEFLOW_HUBSPOT_DEV_CONFIG", str(tmp_path / "hubspot.json"))
    return tmp_path


def _write(path, data) -> str:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


# ------------------------------------------------------------------------------ names
def test_env_names_are_the_public_convention():
    assert env_name("hubspot", "service_key") == "LAKEFLOW_HUBSPOT_SERVICE_KEY"
    assert env_name("oss-check", "base_url") == "LAKEFLOW_OSS_CHECK_BASE_URL"
    assert env_name("my.conn", "x-y") == "LAKEFLOW_MY_CONN_X_Y"


def test_dev_config_locations():
    assert dev_config_path("hubspot", environ={}) == PROJECT_ROOT / "sources/hubspot/configs/dev_config.json"
    assert dev_config_path("hubspot", "hubspot", {}) == PROJECT_ROOT / "sources/hubspot/configs/dev_config.json"
    assert dev_config_path("hubspot", "other_conn", {}) is None    # only the source's own name has a default file
    env = {"LAKEFLOW_OTHER_CONN_DEV_CONFIG": "/x/other.json", "LAKEFLOW_HUBSPOT_DEV_CONFIG": "/x/hs.json"}
    assert str(dev_config_path("hubspot", "other_conn", env)) == "/x/other.json"
    assert str(dev_config_path("hubspot", None, env)) == "/x/hs.json"


# ------------------------------------------------------------------------------ precedence and tracing
def test_environment_wins_over_dev_config_and_each_value_says_where_it_came_from(tmp_path):
    path = _write(tmp_path / "dev.json", {"access_token": "from-file", "Base_URL": "https://x.test", "_comment": "c",
                                          "page_size": 50, "flag": True, "unset": None})
    env = {"LAKEFLOW_ACME_DEV_CONFIG": path, "LAKEFLOW_ACME_ACCESS_TOKEN": " from-env ", "LAKEFLOW_ACME_EXTRA": "e",
           "LAKEFLOW_ACME_BLANK": "  ", "LAKEFLOW_ACMEX_OTHER": "no"}
    settings = load("acme", environ=env)
    assert settings.options() == {"access_token": "from-env", "base_url": "https://x.test", "page_size": "50",
                                  "flag": "true", "extra": "e"}
    assert settings.origin("access_token") == "LAKEFLOW_ACME_ACCESS_TOKEN"
    assert settings.origin("ACCESS_TOKEN") == "LAKEFLOW_ACME_ACCESS_TOKEN"
    assert settings.origin("base_url") == path
    assert settings.origin("blank") is None and "blank" not in settings
    assert settings.describe() == (f"access_token from LAKEFLOW_ACME_ACCESS_TOKEN, base_url from {path}, "
                                   f"extra from LAKEFLOW_ACME_EXTRA, flag from {path}, page_size from {path}")
    # Without the variable, the file's value stands.
    del env["LAKEFLOW_ACME_ACCESS_TOKEN"]
    assert load("acme", environ=env).options()["access_token"] == "from-file"
    assert load("acme", environ=env).origin("access_token") == path


def test_only_the_named_options_and_alternatives(tmp_path):
    env = {"LAKEFLOW_ACME_DEV_CONFIG": _write(tmp_path / "d.json", {"base_url": "u", "other": "o"}),
           "LAKEFLOW_ACME_SERVICE_KEY": "sk", "LAKEFLOW_ACME_NOISE": "n"}
    settings = load("acme", environ=env, only=("access_token|service_key", "base_url"))
    assert settings.options() == {"service_key": "sk", "base_url": "u"}
    assert settings.missing(("access_token|service_key", "base_url", "region")) == ["region"]
    assert load("acme", environ=env, only=("service_key",), files=False).options() == {"service_key": "sk"}
    assert load("acme", environ=env, files=False).file is None


def test_a_named_connection_reads_its_own_variables_and_no_default_file(monkeypatch):
    env = {"LAKEFLOW_MY_CONN_ACCESS_TOKEN": "t", "LAKEFLOW_HUBSPOT_ACCESS_TOKEN": "not-this-one"}
    settings = load("hubspot", "my-conn", environ=env)
    assert settings.options() == {"access_token": "t"} and settings.file is None
    assert connection_options("my-conn", "hubspot", env) == {"access_token": "t"}


# ------------------------------------------------------------------------------ errors and secrets
def test_missing_option_error_names_the_option_and_the_fix(tmp_path):
    path = tmp_path / "none.json"
    settings = load("acme", environ={"LAKEFLOW_ACME_DEV_CONFIG": str(path)})
    with pytest.raises(ConnectionSettingsError) as err:
        settings.require(("service_key|access_token",))
    assert str(err.value) == (f"connection 'acme' has no service_key or access_token: set LAKEFLOW_ACME_SERVICE_KEY "
                              f'or LAKEFLOW_ACME_ACCESS_TOKEN or add "service_key" or "access_token" to {path}')
    with pytest.raises(ConnectionSettingsError, match="set LAKEFLOW_MY_CONN_BASE_URL or point "
                                                      "LAKEFLOW_MY_CONN_DEV_CONFIG at a JSON file holding \"base_url\""):
        load("acme", "my conn", environ={}).require(("base_url",))
    assert load("acme", environ={}, files=False).how_to_set("access_token") == "set LAKEFLOW_ACME_ACCESS_TOKEN"
    assert settings.require(()) is settings


@pytest.mark.parametrize("text, fix", [
    ('{"access_token": "' + SECRET + '",', "cannot read .*bad.json: Expecting .*point LAKEFLOW_ACME_DEV_CONFIG"),
    ('["' + SECRET + '"]', "bad.json must hold a JSON object of options"),
    ('{"access_token": {"v": "' + SECRET + '"}}', "option 'access_token' in .*bad.json must be a string, number"),
])
def test_a_bad_file_fails_naming_it_and_never_the_secret(tmp_path, text, fix):
    env = {"LAKEFLOW_ACME_DEV_CONFIG": _write(tmp_path / "bad.json", text)}
    with pytest.raises(ConnectionSettingsError, match=fix) as err:
        load("acme", environ=env)
    assert SECRET not in str(err.value) and "connection 'acme'" in str(err.value)


def test_no_value_in_repr_description_or_errors(tmp_path):
    env = {"LAKEFLOW_ACME_ACCESS_TOKEN": SECRET, "LAKEFLOW_ACME_BASE_URL": "https://user:pw@x.test",
           "LAKEFLOW_ACME_DEV_CONFIG": _write(tmp_path / "d.json", {"service_key": SECRET})}
    settings = load("acme", environ=env)
    shown = [repr(settings), str(settings), settings.describe(), settings.how_to_set("access_token")]
    with pytest.raises(ConnectionSettingsError) as err:
        settings.require(("region",))
    shown.append(str(err.value))
    for text in shown:
        assert SECRET not in text and "pw@" not in text
    assert repr(settings) == ("ConnectionSettings('acme', access_token from LAKEFLOW_ACME_ACCESS_TOKEN, base_url "
                              f"from LAKEFLOW_ACME_BASE_URL, service_key from {tmp_path / 'd.json'})")
    assert settings.options()["access_token"] == SECRET


# ------------------------------------------------------------------------------ the three callers
def _spy(monkeypatch) -> list:
    calls = []
    real = connection_settings.load

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(connection_settings, "load", spy)
    return calls


def test_live_mode_pipelines_and_uc_read_through_the_one_loader(clean_env, monkeypatch):
    """The same environment gives the same credential, stripped the same way, to the
    suite's live mode, a pipeline's connection and ``lakeflow uc create-connection``."""
    from harness.conformance.config import live_options
    from harness.databricks.uc import secret_options

    monkeypatch.setenv("LAKEFLOW_HUBSPOT_SERVICE_KEY", f"  {SECRET}\n")
    monkeypatch.setenv("LAKEFLOW_HUBSPOT_ACCESS_TOKEN", "   ")          # blank: unset, for all three
    expected = {"service_key": SECRET}
    from harness.pipeline import connection   # what pipeline files rendered before the move import

    calls = _spy(monkeypatch)
    assert live_options("hubspot", ("service_key|access_token",)) == expected
    assert [c[0] for c in calls] == [("hubspot",)]
    assert connection_options(None, "hubspot") == expected
    assert connection.connection_options("hubspot", "hubspot") == expected
    assert [c[0] for c in calls[1:]] == [("hubspot", None), ("hubspot", "hubspot")]
    assert secret_options("hubspot", {}, prompt=None) == expected
    assert calls[3] == (("hubspot",), {"environ": None, "only": ("service_key", "access_token"), "files": False})
    assert issubclass(connection.ConnectionError_, ConnectionSettingsError)


def test_pipeline_prepare_reads_the_connection_through_the_loader(clean_env, monkeypatch):
    """``PreparedRun`` builds its connector from the connection's settings."""
    from harness.pipeline.prepare import PreparedRun
    from harness.pipeline.spec import parse_spec
    from sources.example.sandbox import ExampleSandbox

    sandbox = ExampleSandbox().start()
    try:
        options = sandbox.connection_options()
        _write(clean_env / "acme.json", {"base_url": options["base_url"]})
        monkeypatch.setenv("LAKEFLOW_ACME_ACCESS_TOKEN", options["access_token"])
        spec = parse_spec({"name": "p", "source": "example", "connection": "acme", "destination": {"schema": "s"},
                           "tables": [{"source_table": "orders"}]})
        run = PreparedRun(spec)
    finally:
        sandbox.stop()
    assert run.connection == {"base_url": options["base_url"], "access_token": options["access_token"]}
    assert run.connection == connection_options("acme", "example")


def test_rendered_pipeline_reads_the_loader_off_databricks():
    from harness.pipeline import render

    assert "from harness.connection_settings import connection_options" in render._HEADER
