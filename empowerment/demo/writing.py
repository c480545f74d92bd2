"""Database side of the demo: is it empty, erase it, and write the plan with fast bulk inserts
(Core `insert()` executemany in chunks, explicit ids so rows can refer to each other)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from alembic import command
from sqlalchemy import Connection, inspect, text

from empowerment import audit
from empowerment.actor import Actor
from empowerment.db import Database, alembic_config
from empowerment.demo import texts
from empowerment.demo.model import DEMO_TRUE_UPLIFT, HORIZON_DAYS
from empowerment.demo.org import STAFF_PIN
from empowerment.models import (
    AppSetting,
    Base,
    Budget,
    BudgetPolicy,
    Customer,
    Employee,
    Gesture,
    Incident,
    LedgerEntry,
    Location,
    Period,
    Team,
    TeamManager,
    Transaction,
    search_key,
)
from empowerment.periods import period_label
from empowerment.services.customers import locate_customers
from empowerment.services.gestures import INCIDENT_CATEGORIES
from empowerment.services.incidents import resolve_where_gestures

if TYPE_CHECKING:
    from empowerment.demo.plan import DemoPlan

CHUNK_ROWS = 5_000
DATA_TABLES = ("employees", "customers", "transactions", "incidents", "gestures",
               "budget_policies", "locations", "teams")


def database_is_empty(db: Database) -> bool:
    """True when the schema is missing or none of the organisation's tables holds a row."""
    existing = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        for table in DATA_TABLES:
            if table in existing and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():
                return False
    return True


def erase_database(db: Database) -> None:
    """Drop every table (Alembic downgrade to base, or drop_all for a schema Alembic never
    recorded). The append-only triggers stop row deletes, not dropping the schema."""
    existing = set(inspect(db.engine).get_table_names())
    if "alembic_version" in existing:
        with db.engine.begin() as connection:
            config = alembic_config(db.url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            connection.execute(text("DROP TABLE alembic_version"))
    else:
        Base.metadata.drop_all(db.engine)


def as_python(values: Any) -> list[Any]:
    """numpy/pandas column -> list of plain Python values (ints, strs, datetimes, None)."""
    if isinstance(values, np.ndarray):
        if np.issubdtype(values.dtype, np.datetime64):
            return values.astype("datetime64[us]").tolist()  # NaT -> None
        if values.dtype == object:
            return [None if _missing(v) else v for v in values.tolist()]
        return values.tolist()
    if hasattr(values, "to_numpy"):
        return as_python(values.to_numpy())
    return list(values)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and value != value)


def insert_columns(conn: Connection, table: Any, columns: Mapping[str, Any],
                   constants: Mapping[str, Any] | None = None) -> int:
    """executemany INSERT from equal-length columns, in chunks; returns the row count."""
    names = list(columns)
    lists = [as_python(columns[name]) for name in names]
    n = len(lists[0]) if lists else 0
    extra = dict(constants or {})
    for start in range(0, n, CHUNK_ROWS):
        chunk = [
            {**dict(zip(names, row, strict=True)), **extra}
            for row in zip(*(values[start:start + CHUNK_ROWS] for values in lists), strict=True)
        ]
        conn.execute(table.insert(), chunk)
    return n


def insert_rows(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> int:
    if rows:
        conn.execute(table.insert(), list(rows))
    return len(rows)


def only(mask: np.ndarray, values: Any) -> np.ndarray:
    """`values` where `mask`, else None (an object array, for nullable columns)."""
    mask = np.asarray(mask, dtype=bool)
    out = np.full(mask.shape, None, dtype=object)
    out[mask] = np.broadcast_to(np.asarray(values, dtype=object), mask.shape)[mask]
    return out


def reset_sequences(conn: Connection, tables: Iterable[str]) -> None:
    """After explicit ids, PostgreSQL's serial sequences must continue after the largest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))


# --- The demo's rows -----------------------------------------------------------------------

ID_TABLES = ("locations", "teams", "employees", "budget_policies", "customers", "transactions",
             "incidents", "budgets", "gestures", "ledger_entries")


def write_plan(db: Database, plan: DemoPlan, hashes: Mapping[str, str],
               say: Callable[[str], None]) -> None:
    """Insert the whole plan in one write unit: all of it, or (on any error) none of it."""
    org_, sim, gestures, ledger = plan.org, plan.sim, plan.gestures, plan.ledger
    emp = org_.employees
    emp_id = emp["id"].to_numpy()
    policy_rows = plan.policies.rows
    with db.write() as session:
        conn = session.connection()
        insert_columns(conn, Location.__table__,
                       {c: org_.locations[c] for c in ("id", "code", "name")})
        insert_columns(conn, Team.__table__,
                       {c: org_.teams[c] for c in ("id", "code", "name", "location_id")})
        signs_in = [isinstance(u, str) for u in emp["username"]]
        insert_columns(conn, Employee.__table__, {
            "id": emp_id, "code": emp["code"], "name": emp["name"], "role": emp["role"],
            "team_id": [int(t) + 1 if t >= 0 else None for t in emp["team"]],
            "username": [u if ok else None for u, ok in zip(emp["username"], signs_in, strict=True)],
            "password_hash": [hashes[s] if ok else None
                              for s, ok in zip(emp["secret"], signs_in, strict=True)],
            "pin_hash": [hashes[STAFF_PIN] if p else None for p in emp["pin"]],
        }, constants={"active": True, "pin_failed_attempts": 0, "created_at": plan.start_dt})
        insert_rows(conn, TeamManager.__table__, [
            {"team_id": int(team) + 1, "employee_id": int(emp_id[i])}
            for i, managed in enumerate(emp["managed"]) for team in managed
        ])
        insert_columns(conn, BudgetPolicy.__table__, {
            "id": policy_rows["id"], "name": policy_rows["name"],
            "team_id": [None if pd.isna(t) else int(t) for t in policy_rows["team_id"]],
            "role": policy_rows["role"],
            "allowance_cents": policy_rows["allowance_cents"],
            "review_above_cents": policy_rows["review_above_cents"],
            "approval_above_cents": policy_rows["approval_above_cents"],
            "effective_from": policy_rows["effective_from"],
        }, constants={"period": "month", "rollover": "none", "customer_daily_cap_cents": 200_000,
                      "created_at": plan.start_dt, "created_by_id": 1})

        customers = plan.customers
        insert_columns(conn, Customer.__table__, {
            **{c: customers[c] for c in ("id", "code", "name", "segment", "email", "phone", "room")},
            "search_name": customers["name"].map(search_key),
            "first_seen_at": customers["first_seen_at"].to_numpy(),
            "created_at": customers["first_seen_at"].to_numpy(),
        })
        say(f"  {len(customers):,} customers written")

        txn = plan.transactions
        insert_columns(conn, Transaction.__table__, {
            "id": np.arange(1, len(txn) + 1),
            "code": [f"T{i:07d}" for i in range(1, len(txn) + 1)],
            "customer_id": txn["customer"].to_numpy() + 1,
            "occurred_at": plan.at(txn["time_s"].to_numpy()),
            "amount_cents": txn["amount"].to_numpy(),
        })
        say(f"  {len(txn):,} transactions written")

        order = plan.incident_order
        incident_time = plan.at(sim.incident_time_s[order])
        insert_columns(conn, Incident.__table__, {
            "id": np.arange(1, order.size + 1),
            "code": [f"I{i:06d}" for i in range(1, order.size + 1)],
            "customer_id": sim.incident_customer[order] + 1,
            "occurred_at": incident_time,
            "category": np.take(np.array(INCIDENT_CATEGORIES, dtype=object),
                                sim.incident_category[order]),
            "location_id": sim.incident_hotel[order] + 1,
            "description": plan.incident_description,
            "employee_id": emp_id[sim.incident_employee[order]],
            "created_at": incident_time,
        })
        say(f"  {order.size:,} incidents written")

        budgets = plan.budgets
        starts = [plan.months[m] for m in budgets["month"]]
        ends = [(np.datetime64(d, "M") + 1).astype("datetime64[D]").item() for d in starts]
        opened = {d: datetime.combine(max(d, plan.start_dt.date()), datetime.min.time())
                  for d in plan.months}
        insert_columns(conn, Budget.__table__, {
            "id": budgets["id"], "employee_id": emp_id[budgets["employee"].to_numpy()],
            "policy_id": policy_rows["id"].to_numpy()[budgets["policy_pos"].to_numpy()],
            "period_start": starts, "period_end": ends,
            "remaining_cents": budgets["remaining_cents"],
            "created_at": [opened[d] for d in starts],
        }, constants={"period": "month"})

        n = len(gestures)
        gesture_id = np.arange(1, n + 1)
        gesture_time = plan.at(gestures["time_s"].to_numpy())
        voided = gestures["voided"].to_numpy(dtype=bool)
        reviewed = gestures["reviewed_s"].to_numpy() >= 0
        by_employee = emp_id[gestures["employee"].to_numpy()]
        manager_id = emp_id[gestures["manager"].to_numpy()]
        not_a_time = np.datetime64("NaT", "s")
        comments = np.array(texts.REVIEW_COMMENTS, dtype=object)
        insert_columns(conn, Gesture.__table__, {
            "id": gesture_id,
            "code": [f"G{i:06d}" for i in range(1, n + 1)],
            "incident_id": plan.incident_id[gestures["incident"].to_numpy()],
            "customer_id": sim.incident_customer[gestures["incident"].to_numpy()] + 1,
            "employee_id": by_employee,
            "budget_id": gestures["budget_id"].to_numpy(dtype=np.int64),
            "occurred_at": gesture_time,
            "type": gestures["type_name"],
            "cost_cents": gestures["cost_cents"],
            "note": plan.gesture_notes,
            "status": np.where(voided, "voided", "logged").astype(object),
            "needs_review": gestures["needs_review"].to_numpy(dtype=bool),
            "reviewed_at": np.where(reviewed, plan.at(gestures["reviewed_s"].clip(0)), not_a_time),
            "reviewed_by_id": only(reviewed, manager_id),
            "review_comment": only(reviewed, comments[gesture_id % comments.size]),
            "voided_at": np.where(voided, plan.at(gestures["voided_s"].clip(0)), not_a_time),
            "voided_by_id": only(voided, manager_id),
            "void_reason": only(voided, texts.VOID_REASON),
            "featured": plan.gesture_featured,
            "created_at": gesture_time,
            "created_by_id": by_employee,
        }, constants={"source": "app"})
        say(f"  {n:,} gestures written")
        resolve_where_gestures(conn)  # incidents with a gesture that counts are resolved
        locate_customers(conn)  # where the desk met them: their latest incident's location

        policy_name = policy_rows["name"].to_numpy()
        allowance_reason = {
            int(b): f"{policy_name[p]}: {period_label(Period.MONTH, plan.months[m])} allowance"
            for b, p, m in zip(budgets["id"], budgets["policy_pos"], budgets["month"], strict=True)
        }
        kind = ledger["entry_type"].to_numpy()
        row = ledger["gesture_row"].to_numpy()
        gesture_type = gestures["type_name"].to_numpy()
        allocated_at = np.array([opened[plan.months[m]] for m in ledger["month"]],
                                dtype="datetime64[s]")
        moved_at = plan.at(np.nan_to_num(ledger["time_s"].to_numpy()).astype(np.int64))
        insert_columns(conn, LedgerEntry.__table__, {
            "id": ledger["id"],
            "budget_id": ledger["budget_id"].to_numpy(dtype=np.int64),
            "entry_type": kind,
            "amount_cents": ledger["amount_cents"].to_numpy(dtype=np.int64),
            "gesture_id": only(row >= 0, row + 1),
            "reverses_entry_id": [None if pd.isna(r) else int(r)
                                  for r in ledger["reverses_entry_id"]],
            "reason": [allowance_reason[int(b)] if k == "allocation"
                       else gesture_type[r] if k == "spend" else f"Voided: {texts.VOID_REASON}"
                       for k, b, r in zip(kind, ledger["budget_id"], row, strict=True)],
            "created_at": np.where(kind == "allocation", allocated_at, moved_at),
            "created_by_id": only(kind != "allocation", np.where(
                kind == "spend", by_employee[row.clip(0)], manager_id[row.clip(0)])),
        })
        say(f"  {len(ledger):,} ledger entries written")

        session.add(AppSetting(key="guideline", value=texts.GUIDELINE))
        session.add(AppSetting(key="demo", value=json.dumps({
            "seed": plan.seed, "scale": plan.scale, "generated_at": plan.now.isoformat(),
            "true_uplift": DEMO_TRUE_UPLIFT, "horizon_days": HORIZON_DAYS,
        })))
        reset_sequences(conn, ID_TABLES)
        audit.record(session, Actor.system("demo"), "demo.generated", "database", None,
                     {"seed": plan.seed, "scale": plan.scale}, at=plan.now)
