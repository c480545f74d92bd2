"""The organisation's vocabulary: imports read its words, one mapping step lets a real-world file
in (and is remembered), retired codes keep old gestures readable, admins' new types can be logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from empowerment.db import Database
from empowerment.errors import InvalidInput, PermissionDenied, UnknownValues
from empowerment.models import Gesture, Role
from empowerment.models.vocabulary import GESTURE_TYPE, INCIDENT_CATEGORY, SERVICE_VALUE, load_vocabulary
from empowerment.services import vocabulary
from empowerment.services.gestures import LogRequest, log_gesture
from tests.factories import SYSTEM, actor_of, make_customer, make_employee, make_policy, make_team
from tests.integration.importing_support import run, seed

REAL_WORLD = """gesture_id,incident_id,employee_id,occurred_at,type,cost,note
G1,I1,E1,2024-03-01T11:00:00,Note,0,Sorry
G2,I2,E2,2024-03-02T09:30:00,Comp'd meal,25.00,
G3,I1,E1,2024-03-03T09:30:00,refund,10.00,
G4,I2,E1,2024-03-04T09:30:00,Note,0,Again sorry
"""


def _types(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {g.code: g.type for g in session.scalars(select(Gesture))}


def test_a_real_world_file_imports_after_one_mapping_step_and_the_mapping_is_remembered(db: Database) -> None:
    seed(db, "employees", "incidents")
    with pytest.raises(UnknownValues) as refused:
        run(db, "gestures", REAL_WORLD)
    # One problem per unknown word (not one per line), at its first line; "refund" matched.
    assert refused.value.unknown == {"type": {"Note": 2, "Comp'd meal": 1}}
    assert [(p["line"], p["value"]) for p in refused.value.problems] == [(2, "Note"), (3, "Comp'd meal")]
    assert "Personal note (personal_note)" in str(refused.value.problems[0]["reason"])
    assert _types(db) == {}  # nothing written

    vocabulary.map_values(db, SYSTEM, GESTURE_TYPE, {"Note": "personal_note", "Comp'd meal": "comp"})
    summary = run(db, "gestures", REAL_WORLD)
    assert summary.rows == 4
    assert _types(db) == {"G1": "personal_note", "G2": "comp", "G3": "refund", "G4": "personal_note"}
    # Remembered: the next file with the same words (in other cases and spacing) needs no mapping.
    run(db, "gestures", REAL_WORLD.replace("G1,", "G9,").replace(",Note,0,Sorry", ",NOTE,0,Sorry")
        .replace("Comp'd meal", "comp'd  meal"))
    assert _types(db)["G9"] == "personal_note"


def test_a_file_mapping_applies_once_without_remembering(sqlite_db: Database) -> None:
    seed(sqlite_db, "employees", "incidents")
    run(sqlite_db, "gestures", REAL_WORLD, value_mapping={"type": {"Note": "personal_note", "Comp'd meal": "comp"}})
    assert _types(sqlite_db)["G2"] == "comp"
    with sqlite_db.read() as session:
        assert load_vocabulary(session).match(GESTURE_TYPE, "Note") is None


def test_labels_and_codes_match_whatever_the_case(sqlite_db: Database) -> None:
    seed(sqlite_db, "employees", "incidents")
    run(sqlite_db, "gestures", REAL_WORLD.replace("Note", "personal note").replace("Comp'd meal", "ON THE HOUSE")
        .replace("refund", "Time & Care"))
    assert set(_types(sqlite_db).values()) == {"personal_note", "comp", "time"}


def test_unknown_categories_are_kept_with_a_warning_and_known_ones_read_as_their_code(sqlite_db: Database) -> None:
    seed(sqlite_db, "employees")
    summary = run(sqlite_db, "incidents", "incident_id,customer_id,occurred_at,category\n"
                  "I1,C1,2024-03-01,noise\nI2,C1,2024-03-02,Spa closed\n")
    assert any("Spa closed" in w for w in summary.warnings)
    from empowerment.models import Incident
    with sqlite_db.read() as session:
        assert sorted(session.scalars(select(Incident.category))) == ["Noise", "Spa closed"]


def _org(db: Database) -> tuple[str, str]:
    team = make_team(db)
    staff = make_employee(db, "S1", team_id=team)
    make_policy(db, 100_000)
    return staff, make_customer(db, "C1")


def test_retired_codes_keep_old_gestures_readable_and_cannot_be_chosen_again(db: Database) -> None:
    staff, customer = _org(db)
    log_gesture(db, actor_of(db, staff), LogRequest(staff, customer, "voucher", "20", category="Noise"))
    vocabulary.set_retired(db, SYSTEM, GESTURE_TYPE, "voucher")
    with db.read() as session:
        vocab = load_vocabulary(session)
    assert "voucher" not in vocab.codes(GESTURE_TYPE)
    assert vocab.label(GESTURE_TYPE, "voucher") == "Voucher"  # still reads
    assert list(_types(db).values()) == ["voucher"]
    with pytest.raises(InvalidInput, match="not a gesture type"):
        log_gesture(db, actor_of(db, staff), LogRequest(staff, customer, "voucher", "20", category="Noise"))
    vocabulary.set_retired(db, SYSTEM, GESTURE_TYPE, "voucher", retired=False)
    log_gesture(db, actor_of(db, staff), LogRequest(staff, customer, "Voucher", "20", category="Noise"))


def test_an_admins_new_gesture_type_and_values_can_be_logged(db: Database) -> None:
    staff, customer = _org(db)
    vocabulary.save_term(db, SYSTEM, vocabulary.TermRequest(GESTURE_TYPE, "late_checkout", "Late check-out",
                                                            "Keep the room until 4 pm.", costs_money=False))
    result = log_gesture(db, actor_of(db, staff), LogRequest(staff, customer, "Late check-out", "0", category="noise",
                                                             values=("Proactive", "respectful")))
    assert _types(db) == {result.gesture_code: "late_checkout"}
    from empowerment.models import GestureValue
    with db.read() as session:
        assert sorted(session.scalars(select(GestureValue.value_code))) == ["proactive", "respectful"]
    with pytest.raises(InvalidInput, match="at most 2"):
        log_gesture(db, actor_of(db, staff), LogRequest(staff, customer, "comp", "1", category="Noise",
                                                        values=("proactive", "respectful", "flexible")))


def test_labels_stay_distinct_and_only_admins_edit(sqlite_db: Database) -> None:
    with pytest.raises(InvalidInput, match="already means"):
        vocabulary.save_term(sqlite_db, SYSTEM, vocabulary.TermRequest(GESTURE_TYPE, "treat", "Gift"))
    with pytest.raises(InvalidInput, match="Severity"):
        vocabulary.save_term(sqlite_db, SYSTEM, vocabulary.TermRequest(INCIDENT_CATEGORY, "Spa", "Spa", severity=5))
    team = make_team(sqlite_db)
    make_employee(sqlite_db, "M1", role=Role.MANAGER, team_id=team)
    with pytest.raises(PermissionDenied):
        vocabulary.save_term(sqlite_db, actor_of(sqlite_db, "M1"),
                             vocabulary.TermRequest(SERVICE_VALUE, "kind", "Kind"))
    term = vocabulary.save_term(sqlite_db, SYSTEM, vocabulary.TermRequest(
        INCIDENT_CATEGORY, "Spa", "Spa closed", "The spa was shut.", severity=1, touchpoint="room"))
    assert (term.label, term.severity, term.touchpoint) == ("Spa closed", 1, "room")
    with sqlite_db.read() as session:
        vocab = load_vocabulary(session)
    assert len(vocab.of(SERVICE_VALUE)) == 8  # seven traits and one experience principle
    assert vocab.term(GESTURE_TYPE, "time").counted_cost_cents(0, minutes=30) == 1500
