"""The data model: typed SQLAlchemy tables (`tables`), the vocabularies stored in them with their
rules (`enums`), and the few session-level reads both the write side and the read side need
(`lookups`: the policy in force, the budget covering a day, what a customer got today).

Everything is re-exported here: `from empowerment.models import Gesture, GestureStatus`.
"""

from sqlalchemy.orm import configure_mappers

from empowerment.models.enums import (
    DeliveryStatus,
    EventKind,
    FollowUpKind,
    GestureStatus,
    GestureType,
    IncidentStatus,
    LedgerEntryType,
    NotificationChannel,
    Period,
    Role,
    Rollover,
)
from empowerment.models.tables import (
    NAMING_CONVENTION,
    ApiRateWindow,
    ApiToken,
    AppSetting,
    AuditEvent,
    Base,
    Budget,
    BudgetPolicy,
    ComputedResult,
    Customer,
    Employee,
    EvidenceRow,
    EvidenceState,
    ExchangeRate,
    FollowUp,
    Gesture,
    GestureValue,
    Incident,
    IncidentOutcome,
    LedgerEntry,
    Location,
    NotificationDelivery,
    NotificationPreference,
    OutboxEvent,
    OutcomesState,
    Recognition,
    SignInFailure,
    Team,
    TeamManager,
    Transaction,
    VocabularyTerm,
    WebhookSource,
    search_key,
    table,
)

__all__ = [
    "NAMING_CONVENTION", "ApiRateWindow", "DeliveryStatus", "EventKind", "NotificationChannel", "ApiToken", "AppSetting", "AuditEvent", "Base", "Budget", "BudgetPolicy", "Customer",
    "Employee", "ExchangeRate", "Gesture", "GestureStatus", "GestureType", "Incident", "IncidentStatus", "LedgerEntry", "LedgerEntryType",
    "Location", "NotificationDelivery", "NotificationPreference", "OutboxEvent", "Period", "Role", "Rollover", "SignInFailure", "Team", "TeamManager", "Transaction", "WebhookSource", "table",
    "FollowUp", "FollowUpKind", "GestureValue", "IncidentOutcome", "OutcomesState", "Recognition", "VocabularyTerm",
    "EvidenceRow", "EvidenceState", "ComputedResult", "search_key",
]

# Configure the mappers now, while the process holds few objects (about 30 ms). Left to the first
# query, it ran in the joint report after the staff tables were read, where the garbage collector's
# passes over those objects made it 8.4 s.
configure_mappers()
