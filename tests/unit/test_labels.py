"""Words, not codes: every stored code a person may see has words (`empowerment.labels`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from empowerment import labels
from empowerment.models import GestureStatus, GestureType, LedgerEntryType, Period, Role, Rollover

ROOT = Path(__file__).resolve().parents[2]
# The action codes services write: the first string after `audit.record(session, actor, `.
ACTION = re.compile(r"audit\.record\(\s*\w+,\s*[\w.()\"' ]+?,\s*(?:\"([a-z_.]+)\"(?: if [^,]+ else \"([a-z_.]+)\")?)")


def _actions_in_code() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "empowerment").rglob("*.py"):
        for match in ACTION.finditer(path.read_text(encoding="utf-8")):
            found.update(code for code in match.groups() if code)
    return found


def test_every_audit_action_the_code_writes_has_words() -> None:
    written = _actions_in_code()
    assert {"gesture.logged", "auth.pin_failed", "user.created"} <= written  # the scan works
    missing = sorted(code for code in written if code not in labels.AUDIT_ACTIONS)
    assert not missing, f"add words for {missing} to empowerment.labels.AUDIT_ACTIONS"


@pytest.mark.parametrize("vocabulary", [GestureType, GestureStatus, LedgerEntryType, Period, Rollover])
def test_every_enum_value_has_words_without_codes(vocabulary: type) -> None:
    for value in vocabulary:
        assert value.label and "_" not in value.label and value.label[0].isupper(), value
    assert all(labels.words(v.value) for v in vocabulary)


def test_details_read_as_words_with_money_in_its_currency() -> None:
    detail = ('{"amount_cents": 1250, "reason": "late", "immediate": true, "period": "month", '
              '"role": "cx_lead", "type": "personal_note"}')
    assert labels.audit_detail(detail) == ("Amount: $12.50 · Reason: late · Immediate: yes · Period: Month · "
                                           "Role: CX lead · Type: Personal note")
    assert labels.audit_detail(None) == "" and labels.audit_detail("not json") == "not json"
    assert labels.audit_action("auth.pin_failed") == "Wrong PIN"
    assert labels.audit_action("something.new_thing") == "Something new thing"
    assert labels.audit_entity("budget_policy") == "Budget policy"


def test_counts_are_plural_only_when_more_than_one() -> None:
    assert labels.count(1, "flagged gesture") == "1 flagged gesture"
    assert labels.count(2, "flagged gesture") == "2 flagged gestures"
    assert labels.count(0, "person", "people") == "0 people"
    assert labels.count(1_204, "event") == "1,204 events"
    assert Role.CX_LEAD.heading == "CX lead"
