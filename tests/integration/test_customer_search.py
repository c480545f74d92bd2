"""The tablet's customer search column (`customers.search_name`, migration 0014_tablet): it stays
equal to the case-folded name after every writer of customers (the desk, Core inserts, imports by
both write paths, merges, erasure), on SQLite and PostgreSQL, and the search finds the same
customers by whichever plan it takes (few matches: the probed ids; many: the name order)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from empowerment.db import Database
from empowerment.models import Customer, search_key
from empowerment.queries import customers as customer_queries
from empowerment.services import customers, importing
from empowerment.services.erasure import erase_customer
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team
from tests.integration.importing_support import run


def _out_of_step(db: Database) -> list[tuple[str, str | None, str | None]]:
    with db.read() as session:
        rows = session.execute(select(Customer.code, Customer.name, Customer.search_name)).all()
    assert rows
    return [(code, name, key) for code, name, key in rows if key != search_key(name)]


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast", "portable"])
def test_the_search_column_stays_in_step_with_every_writer(
        db: Database, monkeypatch: pytest.MonkeyPatch, fast_paths: bool) -> None:
    monkeypatch.setattr(importing.writing, "USE_FAST_PATHS", fast_paths)
    make_employee(db, "S1", team_id=make_team(db, "FD", location="Harbour"))
    make_policy(db)
    actor = actor_of(db, "S1")
    make_customer(db, "C-ORM", "ÉLODIE Straße")  # the ORM
    with db.write() as session:  # a Core insert (the demo, the tests' bulk loaders)
        session.execute(insert(Customer.__table__), [{"code": "C-CORE", "name": "Ο ΣΟΦΟΣ"}])
    walk_in = customers.create_customer(db, actor, "李娜 Walk-In", room="12")  # the desk
    run(db, "customers", "customer_id,name\nC-IMP,Jonas BERG\nc-orm,Élodie STRASSE-Neu\n")  # insert + rename
    run(db, "transactions", "transaction_id,customer_id,occurred_at,amount\nT1,C-NEW,2024-04-01,10.00\n")
    assert not _out_of_step(db)
    found = customer_queries.search_customers(db, actor, "élodie strasse")
    assert [c.code for c in found] == ["C-ORM"] and found[0].name == "Élodie STRASSE-Neu"
    assert [c.code for c in customer_queries.search_customers(db, actor, "σοφοσ")] == ["C-CORE"]
    assert [c.code for c in customer_queries.search_customers(db, actor, "Customer C-NEW")] == ["C-NEW"]
    duplicate = customers.create_customer(db, actor, "李娜 walk-in", room="14", not_a_duplicate=True)
    customers.merge_customers(db, SYSTEM, walk_in, duplicate, "Same guest, typed twice")
    erase_customer(db, SYSTEM, "C-IMP", "Ticket 4711")
    assert not _out_of_step(db)
    assert [c.code for c in customer_queries.search_customers(db, actor, "李娜")] == [walk_in]  # merged: gone
    assert not customer_queries.search_customers(db, actor, "jonas")  # erased: gone


def test_a_row_written_around_the_app_is_still_found(db: Database) -> None:
    """No search_name (raw SQL, an old tool): found by its name, outside the index."""
    make_employee(db, "S1", team_id=make_team(db, "FD", location="Harbour"))
    with db.write() as session:
        session.execute(text("INSERT INTO customers (code, name, created_at) VALUES ('C-RAW', 'Zoë Raw', "
                             "CURRENT_TIMESTAMP)"))
    actor = actor_of(db, "S1")
    assert [c.code for c in customer_queries.search_customers(db, actor, "zoë")] == ["C-RAW"]
    assert [c.code for c in customer_queries.search_customers(db, actor, "RAW")] == ["C-RAW"]


def test_many_matches_and_few_matches_list_the_same_way(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's two plans give the same list: exact id first, then by name, at most `limit`."""
    make_employee(db, "S1", team_id=make_team(db, "FD", location="Harbour"))
    with db.write() as session:
        session.execute(insert(Customer.__table__), [{"code": f"C{i}", "name": f"Lena {chr(90 - i % 26)}{i}",
                                                      "phone": f"+44 7700 {i:06d}"} for i in range(40)])
    actor = actor_of(db, "S1")
    for probe in (1000, 5):  # all matches probed; more matches than the probe holds
        monkeypatch.setattr(customer_queries, "PROBE_ROWS", probe)
        names = [c.name for c in customer_queries.search_customers(db, actor, "LENA")]
        assert len(names) == 12 and names == sorted(names)
        assert [c.code for c in customer_queries.search_customers(db, actor, "C7")][0] == "C7"
        assert [c.code for c in customer_queries.search_customers(db, actor, "7700 000031")] == ["C31"]
