from __future__ import annotations

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
