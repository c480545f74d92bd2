"""Issue 13's pages in AppTest: the Data page's value mapping, the Vocabulary page, the care list
(acting on an entry), the hand-over's care part, the friction map and the tablet's value pills."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from empowerment.db import Database
from empowerment.models import Customer, Gesture, GestureValue, Incident, Role
from empowerment.models.vocabulary import GESTURE_TYPE, SERVICE_VALUE
from empowerment.queries import vocabulary as vocabulary_queries
from empowerment.services.gestures import LogRequest, log_gesture
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team
from tests.integration.importing_support import run
from tests.integration.test_vocabulary import REAL_WORLD

ROOT = Path(__file__).resolve().parents[2] / "pages"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", database.url)
    get_db.clear()
    team = make_team(database, "FD", "Harbour")
    make_employee(database, "E1", team_id=team, name="Ana Staff")
    make_employee(database, "E2", role=Role.MANAGER, team_id=team, name="Mo Manager")
    make_employee(database, "E3", role=Role.ADMIN, name="Ada Admin")
    with database.write() as session:
        from empowerment.models import Employee, TeamManager
        manager_id = session.scalar(select(Employee.id).where(Employee.code == "E2"))
        session.add(TeamManager(team_id=team, employee_id=manager_id))
    make_policy(database, 100_000)
    yield database
    get_db.clear()
    database.dispose()


def page(name: str, actor: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / f"{name}.py"), default_timeout=60)
    at.session_state["actor"] = actor
    return at.run()


def test_a_real_world_file_imports_after_one_mapping_step_on_the_data_page(db: Database) -> None:
    run(db, "incidents", "incident_id,customer_id,occurred_at,category\nI1,C1,2024-03-01,Noise\nI2,C2,2024-03-02,Noise\n")
    at = page("data", actor_of(db, "E3"))
    at.selectbox(key="dt_kind").set_value("gestures").run()
    at.file_uploader(key="dt_file_gestures").set_value(("hotel.csv", REAL_WORLD.encode(), "text/csv")).run()
    at.button(key="dt_check").click().run()
    assert not at.exception
    selects = {s.label: s.key for s in at.selectbox if s.key and s.key.startswith("vm_type_")}
    assert list(selects) == ["“Note” (2 rows) means", "“Comp'd meal” (1 row) means"]
    at.selectbox(key=selects["“Note” (2 rows) means"]).set_value("personal_note")
    at.selectbox(key=selects["“Comp'd meal” (1 row) means"]).set_value("comp")
    at.button(key="vm_save").click().run()
    assert not at.exception and at.info and "Checked 4 gestures" in at.info[0].value  # checked again at once
    at.button(key="dt_import").click().run()
    assert "Imported 4 gestures" in at.success[0].value
    vocab = vocabulary_queries.vocabulary(db)
    assert vocab.match(GESTURE_TYPE, "note") == "personal_note"  # remembered


def test_admins_add_a_value_on_the_vocabulary_page(db: Database) -> None:
    at = page("vocabulary", actor_of(db, "E3"))
    assert not at.exception and len(at.tabs) == 3
    at.text_input(key=f"vc_code_{SERVICE_VALUE}").set_value("warm")
    at.text_input(key=f"vc_label_{SERVICE_VALUE}").set_value("Warm")
    at.text_input(key=f"vc_desc_{SERVICE_VALUE}").set_value("Every guest feels welcome.")
    at.button[[b.label for b in at.button].index("Save", 2)].click().run()  # the third tab's form
    assert not at.exception
    assert vocabulary_queries.vocabulary(db).label(SERVICE_VALUE, "warm") == "Warm"


def _at_risk(db: Database) -> None:
    make_customer(db, "C9", "Rita Risk")
    with db.write() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == "C9"))
        from empowerment.models import Team
        location_id = session.scalars(select(Team.location_id)).first()
        session.add(Incident(code="I-9", customer_id=customer_id, category="Noise", location_id=location_id,
                             occurred_at=datetime.now().replace(microsecond=0) - timedelta(hours=3)))


def test_acting_on_a_care_list_entry_takes_the_customer_off(db: Database) -> None:
    _at_risk(db)
    at = page("care_list", actor_of(db, "E1"))
    assert not at.exception
    assert any("Rita Risk" in m.value for m in at.markdown)
    at.button(key="care_C9_go").click().run()
    assert not at.exception
    assert "off the list" in at.success[0].value
    assert not any("Rita Risk" in m.value for m in at.markdown if m.value.startswith("**1."))


def test_a_customer_with_no_purchases_has_no_value_at_risk_said_as_zero(db: Database) -> None:
    _at_risk(db)  # Rita Risk has bought nothing
    at = page("care_list", actor_of(db, "E1"))
    line = next(m.value for m in at.markdown if "Rita Risk" in m.value)
    assert "no purchases on record" in line and "$0.00" not in line and "value at risk" not in line


def test_the_hand_over_shows_the_care_list_and_waiting_time(db: Database) -> None:
    _at_risk(db)
    at = page("handover", actor_of(db, "E1"))
    assert not at.exception
    assert any("Rita Risk" in m.value for m in at.markdown)
    waiting = [m.value for m in at.markdown if m.value.startswith(":material/hourglass_top: ")]
    assert len(waiting) == 1 and " · waiting 3 h · reported " in waiting[0]


def test_the_friction_map_for_managers(db: Database) -> None:
    _at_risk(db)
    at = page("friction", actor_of(db, "E2"))
    assert not at.exception and "Poisson test" in at.caption[-1].value and at.get("vega_lite_chart")
    refused = page("friction", actor_of(db, "E1"))
    assert refused.error or "not available" in str([e.value for e in refused.error])


def test_the_tablet_tags_a_value(db: Database) -> None:
    make_customer(db, "C1", "Grace Hopper")
    at = page("log_recovery", actor_of(db, "E1"))
    at.text_input(key="lr_query").set_value("Grace").run()
    at.button(key="lr_pick_C1").click().run()
    at.pills(key="lr_category").set_value("Noise").run()
    at.pills(key="lr_type").set_value("comp").run()
    at.pills(key="lr_values").set_value(["proactive"]).run()
    at.pills(key="lr_quick").set_value(10).run()
    at.button(key="lr_submit").click().run()
    assert not at.exception
    with db.read() as session:
        assert list(session.scalars(select(GestureValue.value_code))) == ["proactive"]
        assert session.scalar(select(Gesture.type)) == "comp"


def test_my_budget_shows_the_values_i_live(db: Database) -> None:
    make_customer(db, "C1", "Grace Hopper")
    log_gesture(db, SYSTEM, LogRequest("E1", "C1", "gift", "5", category="Noise", note="Flowers",
                                       values=("respectful",)))
    at = page("my_budget", actor_of(db, "E1"))
    assert not at.exception
    assert "The values I live" in [s.value for s in at.subheader]


def test_the_tablet_shows_what_tends_to_work_adjusted_in_plain_words(db: Database) -> None:
    """The hint reads the stored adjusted evidence (computed off the app process) and puts each
    gesture type in words: associated with, an interval, the cases; too few cases or an unreliable
    estimate gives words, never a number. Before any refresh it says so in a plain sentence."""
    import pandas as pd
    import streamlit as st

    from empowerment.services import evidence as evidence_store

    st.cache_data.clear()
    make_customer(db, "C1", "Grace Hopper")
    at = page("log_recovery", actor_of(db, "E1"))
    at.text_input(key="lr_query").set_value("Grace").run()
    at.button(key="lr_pick_C1").click().run()
    at.pills(key="lr_category").set_value("Noise").run()
    assert not at.exception
    hint = next(e for e in at.expander if e.label.startswith("What tends to work for Noise"))
    assert "Not enough cases yet" in " ".join(c.value for c in hint.caption)
    evidence = pd.DataFrame([
        {"category": "Noise", "gesture_type": "comp", "cases": 412, "estimate": 0.061, "low": 0.021, "high": 0.098,
         "p_value": 0.003, "p_holm": 0.01, "reliable": True, "reason": ""},
        {"category": "Noise", "gesture_type": "upgrade", "cases": 95, "estimate": 0.3, "low": 0.1, "high": 0.5,
         "p_value": 0.01, "p_holm": 0.02, "reliable": False, "reason": "Poor overlap: no comparable customers."},
        {"category": "Noise", "gesture_type": "gift", "cases": 12, "estimate": None, "low": None, "high": None,
         "p_value": None, "p_holm": None, "reliable": False, "reason": "Not enough data."}])
    evidence_store.store(db, SYSTEM, evidence, "test", 0.1)
    at.run()  # the next rerun reads the new refresh (its time is the cache key)
    hint = next(e for e in at.expander if e.label.startswith("What tends to work for Noise"))
    words = " ".join(m.value for m in hint.markdown)
    assert "in points more (+) or fewer (−) than similar customers given no gesture" in words
    assert "**On the house**: +6.1 points (between +2.1 and +9.8; 412 cases)" in words
    assert "**Upgrade**: no fair comparison yet (95 cases)" in words and "30.0" not in words and "+10.0" not in words
    assert "**Gift**: not enough cases yet (12 so far)" in words
    assert "CI" not in words and "Holm" in " ".join(c.value for c in hint.caption)
    at.pills(key="lr_category").set_value("Billing error").run()  # no rows for this category
    hint = next(e for e in at.expander if e.label.startswith("What tends to work for"))
    assert "Not enough cases yet for this kind of breakdown." in " ".join(c.value for c in hint.caption)
