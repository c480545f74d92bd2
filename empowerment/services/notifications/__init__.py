"""Notifications that reach people: an approval waits → its approvers; approved or rejected → the
employee; flagged for review → the team's managers; a weekly digest of under-use (and, once it
exists, the care list) → managers.

How a notification travels:

1. **Outbox** (`outbox.record_event`): the service that makes the change writes one `OutboxEvent`
   row inside its own write unit, so the event exists exactly when the change does. Nothing is
   sent there: a slow or dead channel never delays a gesture.
2. **Fan-out** (`delivery.dispatch`): the worker (`python -m empowerment notify-worker`, started by
   `make run` beside the app) turns each new event into one `NotificationDelivery` per recipient
   and chosen channel; a unique (event, person, channel) row makes a second fan-out a no-op.
3. **Delivery** (`delivery.deliver_due`): each due delivery is claimed (a conditional UPDATE, so
   two workers never take the same row), sent, and its outcome written: sent; retry later with
   backoff when the channel clearly did not take it (refused connection, 5xx, 429); failed when it
   never will (4xx, no address) or after `MAX_ATTEMPTS`. A send whose outcome is unknown (timed out
   after the request went out, or the worker died mid-send) is *not* repeated automatically: at
   most once per event and channel. Admins see every row on the Delivery log page and may send
   one again.

Channels (`channels`): email (SMTP settings), Slack-compatible and Teams Workflows-compatible
incoming webhooks, and generic webhooks signed like inbound pushes (`sealing.signature`). Each
person picks theirs (`preferences`); with no choice made, email goes to their work address.
"""

from __future__ import annotations

from empowerment.models import EventKind
from empowerment.services.notifications.outbox import record_event

__all__ = ["EventKind", "record_event"]
