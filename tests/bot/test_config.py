"""Configuration: one file, environment overrides, and a clear line for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, with_overrides


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_repository_config_is_valid_and_keeps_rasa_keys_aside(root: Path) -> None:
    config = load_config(root / "config.yml", environ={})
    assert config.nlu.engine == "embedded"
    assert config.nlu.content_dir == root / "data" / "intents"
    assert "phone.crisis_line" in config.placeholder_keys()
    assert config.fact("phone.crisis_line", "sv") == "09 2525 0112"


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "nlu:\n  fallback_threshold: 0.3\n")
    config = load_config(path, environ={"NEUVO_NLU__FALLBACK_THRESHOLD": "0.5", "NEUVO_NLU__ENGINE": "rasa"})
    assert config.nlu.fallback_threshold == 0.5
    assert config.nlu.engine == "rasa"


def test_env_references_in_values_are_substituted(tmp_path: Path) -> None:
    path = write(tmp_path, "nlu:\n  rasa_url: ${RASA:-http://127.0.0.1:5005}\ncounty:\n  name: ${COUNTY}\n")
    config = load_config(path, environ={"COUNTY": "Kainuu"})
    assert config.nlu.rasa_url == "http://127.0.0.1:5005"
    assert config.fact("name", "fi") == "Kainuu"


def test_every_bad_value_is_named_on_its_own_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nlu:\n  fallback_threshold: 1.5\n  engine: gpt\n  default_language: de\n  colour: blue\nsurprise: 1\n",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    problems = raised.value.problems
    assert any(p.startswith("nlu.fallback_threshold: expected a number from 0 to 1") for p in problems)
    assert any(p.startswith("nlu.engine: expected embedded or rasa") for p in problems)
    assert any(p.startswith("nlu.default_language: expected fi, sv or en") for p in problems)
    assert any(p.startswith("nlu.colour: unknown setting") for p in problems)
    assert any(p.startswith("surprise: unknown setting") for p in problems)


def test_missing_file_and_broken_yaml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yml", environ={})
    with pytest.raises(ConfigError, match="line 3: not valid YAML"):
        load_config(write(tmp_path, "nlu:\n  x: [\n"), environ={})


def test_an_unset_environment_reference_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable TOKEN is not set"):
        load_config(write(tmp_path, "county:\n  name: ${TOKEN}\n"), environ={})


def test_a_fact_falls_back_to_finnish_when_the_language_is_missing(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "county:\n  hours:\n    phone:\n      fi: ma-pe\n"), environ={})
    assert config.fact("hours.phone", "en") == "ma-pe"
    with pytest.raises(KeyError):
        config.fact("hours.nothing", "fi")


# --- the Telegram channel --------------------------------------------------------------------------

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def test_telegram_is_off_without_a_token_and_on_with_one_from_the_environment(root: Path) -> None:
    assert not load_config(root / "config.yml", environ={}).telegram.enabled
    config = load_config(root / "config.yml", environ={"TELEGRAM_TOKEN": TOKEN})
    assert config.telegram.enabled
    assert (config.telegram.mode, config.telegram.api_url) == ("polling", "https://api.telegram.org")
    assert TOKEN not in repr(config)  # a secret is never shown


def test_bad_telegram_settings_are_named_without_quoting_the_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "telegram:\n  token: 'my-secret-token'\n  api_url: telegram.org\n  mode: push\n"
        "  webhook:\n    secret_token: 'has spaces'\n    max_connections: 500\n",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    problems = raised.value.problems
    assert any(p.startswith("telegram.token: expected a bot token") for p in problems)
    assert any(p.startswith("telegram.api_url: expected an http(s) URL") for p in problems)
    assert any(p.startswith("telegram.mode: expected polling, webhook or off") for p in problems)
    assert any(p.startswith("telegram.webhook.max_connections: expected a number from 1 to 100") for p in problems)
    assert "my-secret-token" not in str(raised.value)
    assert "has spaces" not in str(raised.value)


def test_webhook_mode_needs_a_secret_token(tmp_path: Path) -> None:
    path = write(tmp_path, f"telegram:\n  token: '{TOKEN}'\n  mode: webhook\n")
    with pytest.raises(ConfigError, match=r"telegram\.webhook\.secret_token: required in webhook mode"):
        load_config(path, environ={})
    config = load_config(path, environ={"NEUVO_TELEGRAM__WEBHOOK__SECRET_TOKEN": "s3cret_ok"})
    assert config.telegram.webhook_secret == "s3cret_ok"


def test_serve_flags_override_the_telegram_settings_and_are_checked(root: Path) -> None:
    config = load_config(root / "config.yml", environ={})
    changed = with_overrides(
        config, telegram_token=TOKEN, telegram_api_url="http://127.0.0.1:8081", telegram_mode="polling"
    )
    assert (changed.telegram.token, changed.telegram.api_url, changed.telegram.enabled) == (
        TOKEN,
        "http://127.0.0.1:8081",
        True,
    )
    with pytest.raises(ConfigError, match="--telegram-api-url: expected an http"):
        with_overrides(config, telegram_api_url="ftp://x")
    with pytest.raises(ConfigError, match=r"telegram\.webhook\.secret_token: required"):
        with_overrides(config, telegram_token=TOKEN, telegram_mode="webhook")
