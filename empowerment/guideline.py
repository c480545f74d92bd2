"""The organisation's written empowerment guideline, shown next to the tablet form.

Stored in `AppSetting` under the key "guideline"; a sensible default until an admin writes one.
"""

from __future__ import annotations

from datetime import datetime

from empowerment import audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidInput
from empowerment.models import AppSetting, Role

SETTING_KEY = "guideline"
MAX_GUIDELINE_CHARS = 10_000

DEFAULT_GUIDELINE = """\
**You own the guest's problem the moment you hear it.**

- Listen to the whole story, apologise sincerely, and thank them for telling you.
- Put it right on the spot, with your own budget, without asking a manager first.
- Choose what fits the person: time and a personal note often mean more than money.
- Stay within your remaining budget and the daily limit per guest shown on this page.
- Log it here straight away, so no colleague ever makes the guest repeat themselves.
- Follow up before the guest leaves: check that it really is fixed.
"""


def get_guideline(db: Database) -> str:
    """The current guideline text (Markdown), or the default if none was written."""
    with db.read() as session:
        setting = session.get(AppSetting, SETTING_KEY)
        text = (setting.value if setting else "").strip()
    return text or DEFAULT_GUIDELINE


def set_guideline(db: Database, actor: Actor, text: str) -> str:
    """Replace the guideline (admins only). Returns the stored text."""
    actor.require(actor.role == Role.ADMIN, "change the empowerment guideline")
    clean = (text or "").strip()
    if not clean:
        raise InvalidInput("The guideline cannot be empty; write at least one sentence.")
    if len(clean) > MAX_GUIDELINE_CHARS:
        raise InvalidInput(
            f"The guideline is {len(clean):,} characters long; keep it under {MAX_GUIDELINE_CHARS:,}."
        )
    with db.write() as session:
        setting = session.get(AppSetting, SETTING_KEY)
        previous = len(setting.value) if setting else 0
        if setting is None:
            setting = AppSetting(key=SETTING_KEY, value=clean)
            session.add(setting)
        setting.value = clean
        setting.updated_at = datetime.now().replace(microsecond=0)
        setting.updated_by_id = actor.employee_id
        audit.record(session, actor, "guideline.set", "app_setting", SETTING_KEY,
                     dict(chars=len(clean), previous_chars=previous))
    return clean
