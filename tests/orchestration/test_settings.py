"""The one settings object: overrides > PANTAU_* environment > PANTAU_CONFIG TOML file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.settings import CONFIG_ENV, SettingsError, load_settings


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pantau.toml"
    path.write_text(text)
    return path


# (TOML file text or None, environment, overrides, field, expected value)
PRECEDENCE = [
    pytest.param(None, {}, {}, "lake_catalog", "sqlite", id="default"),
    pytest.param('[pantau]\nlake_catalog = "postgres"\n', {}, {}, "lake_catalog", "postgres", id="toml-over-default"),
    pytest.param(None, {"PANTAU_LAKE_CATALOG": "postgres"}, {}, "lake_catalog", "postgres", id="env-over-default"),
    pytest.param(
        '[pantau]\nlake_catalog = "postgres"\n',
        {"PANTAU_LAKE_CATALOG": "sqlite"},
        {},
        "lake_catalog",
        "sqlite",
        id="env-sqlite-over-toml-postgres",
    ),
    pytest.param(
        '[pantau]\nlake_catalog = "sqlite"\n',
        {"PANTAU_LAKE_CATALOG": "postgres"},
        {},
        "lake_catalog",
        "postgres",
        id="env-postgres-over-toml-sqlite",
    ),
    pytest.param(
        "[pantau]\nsmtp_port = 2525\n", {"PANTAU_SMTP_PORT": "587"}, {}, "smtp_port", 587, id="env-int-over-toml"
    ),
    pytest.param("[pantau]\nsmtp_port = 2525\n", {}, {}, "smtp_port", 2525, id="toml-int"),
    pytest.param(
        '[pantau]\ndata_dir = "/from/toml"\n',
        {"PANTAU_DATA_DIR": "/from/env"},
        {"data_dir": Path("/from/flag")},
        "data_dir",
        Path("/from/flag"),
        id="override-over-env-and-toml",
    ),
    pytest.param('scoring = "passthrough"\n', {}, {}, "scoring", "passthrough", id="toml-without-table"),
    pytest.param(
        '[pantau]\nlog_level = "DEBUG"\n', {"PANTAU_LOG_LEVEL": ""}, {}, "log_level", "", id="empty-env-still-wins"
    ),
]


@pytest.mark.parametrize(("toml", "env", "overrides", "field", "expected"), PRECEDENCE)
def test_precedence(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str | None,
    env: dict[str, str],
    overrides: dict[str, object],
    field: str,
    expected: object,
) -> None:
    if toml is not None:
        monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path, toml)))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert getattr(load_settings(**overrides), field) == expected


def test_toml_and_env_fill_different_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = '[pantau]\nlake_catalog = "postgres"\ns3_bucket = "toml-bucket"\nsalt = "toml-salt-123"\n'
    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path, cfg)))
    monkeypatch.setenv("PANTAU_S3_BUCKET", "env-bucket")
    s = load_settings()
    assert (s.lake_catalog, s.s3_bucket, s.salt.get_secret_value()) == ("postgres", "env-bucket", "toml-salt-123")
    s3 = s.lake_config().s3
    assert s3 is not None and s3.bucket == "env-bucket"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[pantau]\nlake_catalg = "postgres"\n', "unknown setting(s) lake_catalg"),
        ("[pantau\n", "not valid TOML"),
        ("pantau = 3\n", "must be a table"),
    ],
)
def test_a_bad_config_file_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path, text)))
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings()


def test_a_missing_config_file_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "absent.toml"))
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings()


def test_a_bad_value_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path, '[pantau]\nscoring = "none"\n')))
    with pytest.raises(ValueError, match="scoring"):
        load_settings()


def test_ops_db_url_is_decided_in_one_place(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path / "d")
    assert s.existing_ops_db_url() is None  # readers never create the embedded DB
    assert not (tmp_path / "d" / "ops.sqlite").exists()
    url = s.resolved_ops_db_url()
    assert url == f"sqlite:///{(tmp_path / 'd' / 'ops.sqlite').resolve()}"
    (tmp_path / "d" / "ops.sqlite").touch()
    assert s.existing_ops_db_url() == url
    pg = load_settings(data_dir=tmp_path / "d", ops_db_url="postgresql+psycopg2://u@h/ops")
    assert pg.resolved_ops_db_url() == pg.existing_ops_db_url() == "postgresql+psycopg2://u@h/ops"
