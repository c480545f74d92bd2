from __future__ import annotations

import pytest

from empowerment import settings
from empowerment.settings import PROJECT_ROOT


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [spec.env for spec in settings.SPECS if f"`{spec.env}`" not in readme]
    assert not missing, f"settings missing from the README's table: {missing}"


def test_every_setting_has_help_text() -> None:
    assert all(spec.help.strip() for spec in settings.SPECS)


def test_the_database_url_comes_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", "sqlite:////tmp/x.db")
    assert settings.database_url() == "sqlite:////tmp/x.db"


def test_every_setting_has_one_field_and_parses_its_default() -> None:
    assert [spec.name for spec in settings.SPECS] == settings.field_names()
    defaults = settings.load({})
    assert defaults.idle_timeout_minutes == 15 and defaults.currency == "USD" and defaults.demo_on_empty


@pytest.mark.parametrize("env, value, words", [
    ("EMPOWERMENT_IDLE_TIMEOUT_MINUTES", "abc", "whole number of minutes"),
    ("EMPOWERMENT_IDLE_TIMEOUT_MINUTES", "0", "from 1 to 1440"),
    ("EMPOWERMENT_CURRENCY", "dollars", "three-letter ISO 4217"),
    ("EMPOWERMENT_DEMO_ON_EMPTY", "maybe", "give 1 or 0"),
    ("EMPOWERMENT_DATABASE_URL", "mysql://x", "sqlite:///"),
])
def test_a_bad_value_is_refused_naming_the_variable(env: str, value: str, words: str) -> None:
    with pytest.raises(settings.SettingsInvalid, match=f"{env} is '{value}': .*{words}"):
        settings.load({env: value})


def test_every_bad_value_is_listed_at_once() -> None:
    with pytest.raises(settings.SettingsInvalid) as refused:
        settings.load({"EMPOWERMENT_CURRENCY": "x", "EMPOWERMENT_IDLE_TIMEOUT_MINUTES": "-5"})
    assert "EMPOWERMENT_CURRENCY" in str(refused.value) and "EMPOWERMENT_IDLE_TIMEOUT_MINUTES" in str(refused.value)


def test_the_command_line_stops_on_a_bad_setting(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from empowerment.cli import main

    monkeypatch.setenv("EMPOWERMENT_IDLE_TIMEOUT_MINUTES", "soon")
    assert main(["init"]) == 2
    assert "EMPOWERMENT_IDLE_TIMEOUT_MINUTES is 'soon'" in capsys.readouterr().err
