"""Migrations are the schema: after `upgrade head` the models and the database must agree."""

from __future__ import annotations

from alembic import command

from empowerment.db import Database, alembic_config


def test_models_and_migrations_do_not_drift(db: Database) -> None:
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.check(config)  # raises if autogenerate would emit any operation


def test_the_front_line_migration_gives_existing_incidents_a_status(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On a filled database: an incident with a gesture that counts becomes resolved, one without
    stays open, a customer takes the location of their latest incident (SQLite adds the columns
    in place, no table copy tripping the foreign keys)."""
    from sqlalchemy import text

    db = Database(f"sqlite:///{tmp_path}/before.db")
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007_cluster_browser_sessions")
    with db.engine.begin() as connection:
        for statement in (
            "INSERT INTO locations (id, code, name) VALUES (1, 'H', 'Harbour')",
            "INSERT INTO employees (id, code, name, role) VALUES (1, 'E1', '李娜', 'staff')",
            "INSERT INTO customers (id, code, name) VALUES (1, 'C1', '山田太郎')",
            "INSERT INTO incidents (id, code, customer_id, occurred_at, category, location_id, employee_id) "
            "VALUES (1, 'I1', 1, '2026-11-01 10:00:00', 'Noise', 1, 1), "
            "(2, 'I2', 1, '2026-11-02 10:00:00', 'Noise', 1, 1), (3, 'I3', 1, '2026-11-03 10:00:00', 'Noise', 1, 1)",
            "INSERT INTO gestures (id, code, incident_id, customer_id, employee_id, occurred_at, type, cost_cents, "
            "status, source) VALUES (1, 'G1', 1, 1, 1, '2026-11-01 10:05:00', 'comp', 500, 'logged', 'app'), "
            "(2, 'G2', 2, 1, 1, '2026-11-02 10:05:00', 'comp', 500, 'voided', 'app')",
        ):
            connection.execute(text(statement))
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with db.engine.connect() as connection:
        statuses = dict(connection.execute(text("SELECT code, status FROM incidents")).all())
        owners = set(connection.execute(text("SELECT owner_id FROM incidents")).scalars())
        located = connection.execute(text("SELECT location_id FROM customers")).scalar()
        problems = connection.execute(text("PRAGMA foreign_key_check")).all()
    assert statuses == {"I1": "resolved", "I2": "open", "I3": "open"}
    assert owners == {1} and located == 1 and problems == []
    db.dispose()
