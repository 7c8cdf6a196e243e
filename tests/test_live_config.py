"""Live credentials come from the environment or dev_config.json; never printed."""

import json

from harness.conformance.config import live_options


def test_absent_credentials_mean_sandbox(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKEFLOW_ACME_DEV_CONFIG", str(tmp_path / "missing.json"))
    monkeypatch.delenv("LAKEFLOW_ACME_ACCESS_TOKEN", raising=False)
    assert live_options("acme", ("access_token",)) is None


def test_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKEFLOW_ACME_DEV_CONFIG", str(tmp_path / "missing.json"))
    monkeypatch.setenv("LAKEFLOW_ACME_ACCESS_TOKEN", "pat-123")
    assert live_options("acme", ("access_token",), ("base_url",)) == {"access_token": "pat-123"}


def test_dev_config_file_and_env_precedence(monkeypatch, tmp_path):
    path = tmp_path / "dev_config.json"
    path.write_text(json.dumps({"access_token": "from-file", "base_url": "https://x.test"}))
    monkeypatch.setenv("LAKEFLOW_ACME_DEV_CONFIG", str(path))
    monkeypatch.delenv("LAKEFLOW_ACME_ACCESS_TOKEN", raising=False)
    assert live_options("acme", ("access_token",), ("base_url",)) == {"access_token": "from-file", "base_url": "https://x.test"}
    monkeypatch.setenv("LAKEFLOW_ACME_ACCESS_TOKEN", "from-env")
    assert live_options("acme", ("access_token",))["access_token"] == "from-env"


def test_partial_credentials_are_not_live(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKEFLOW_ACME_DEV_CONFIG", str(tmp_path / "missing.json"))
    monkeypatch.setenv("LAKEFLOW_ACME_ACCESS_TOKEN", "t")
    monkeypatch.delenv("LAKEFLOW_ACME_BASE_URL", raising=False)
    assert live_options("acme", ("access_token", "base_url")) is None


def test_alternative_credentials(monkeypatch, tmp_path):
    """HubSpot connects with a Service Key or a private-app token: either one is enough."""
    from harness.conformance.config import env_names

    monkeypatch.setenv("LAKEFLOW_ACME_DEV_CONFIG", str(tmp_path / "missing.json"))
    monkeypatch.delenv("LAKEFLOW_ACME_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("LAKEFLOW_ACME_SERVICE_KEY", raising=False)
    assert live_options("acme", ("service_key|access_token",)) is None
    monkeypatch.setenv("LAKEFLOW_ACME_SERVICE_KEY", "sk")
    assert live_options("acme", ("service_key|access_token",)) == {"service_key": "sk"}
    assert env_names("acme", ("service_key|access_token", "base_url")) == \
        "LAKEFLOW_ACME_SERVICE_KEY or LAKEFLOW_ACME_ACCESS_TOKEN, LAKEFLOW_ACME_BASE_URL"
