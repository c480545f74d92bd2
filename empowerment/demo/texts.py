"""Words for the demo: the guideline, incident descriptions, gesture notes, review comments."""

from __future__ import annotations

GUIDELINE = """\
Every one of us may put a guest's bad experience right, on the spot, without asking first.

• You may spend up to $2,000 per guest per day, from your own recovery budget, to turn a bad \
moment into a good one. You do not need a manager's permission to do the right thing.
• Listen to the whole story without interrupting. Apologise sincerely; it is never the guest's \
job to find the right person.
• Act now. Fix the problem first, then choose a gesture that fits the guest and the harm. A \
handwritten note, an upgrade or your own time often mean more than money.
• Own it until it is done. If you must hand over, hand over in person, not by passing a message.
• Write down what happened and what you did, so the next shift knows and the guest never has \
to repeat themselves.

Large gestures are reviewed afterwards so we learn from them, never to blame. When a gesture needs \
approval the money is held for you and your manager decides the same day."""

# In empowerment.gestures.INCIDENT_CATEGORIES order.
DESCRIPTIONS: tuple[tuple[str, ...], ...] = (
    ("Room not ready at check-in; guest waited in the lobby for over an hour.",
     "Arrived at 3 pm, room still being cleaned.",
     "Booked twin beds, room had a double."),
    ("Loud party in the next room until 2 am.",
     "Building works outside the window from 7 am.",
     "Lift machinery humming all night above the room."),
    ("Charged twice for the minibar.",
     "Breakfast billed although it was included in the rate.",
     "Deposit not released after check-out."),
    ("Twenty-five minutes in the check-in queue.",
     "Waited 40 minutes for room service.",
     "Airport shuttle did not turn up; guest took a taxi."),
    ("Main course arrived cold.",
     "Allergy noted at booking but the dish contained nuts; guest unharmed but upset.",
     "Anniversary dinner served 50 minutes late."),
    ("Hair in the bathroom; towels not changed.",
     "Room not serviced on day two.",
     "Stained bedspread."),
    ("Guest felt the receptionist was dismissive about a complaint.",
     "Waiter rushed the table to close the section.",
     "Porter was curt when asked for help with luggage."),
    ("Promised late check-out was not in the system.",
     "Theatre tickets booked by the concierge were for the wrong night.",
     "Wake-up call never came; guest nearly missed a flight."),
    ("Left a phone charger in the room; not found at first.",
     "Laundry came back with a shirt missing.",
     "Jacket left in the restaurant went missing."),
    ("Wi-Fi down in the whole east wing.",
     "Key card stopped working three times.",
     "Hot water off for two hours in the morning."),
)

# In models.GestureType order: refund, comp, upgrade, gift, voucher, personal_note, time, other.
NOTES: tuple[tuple[str, ...], ...] = (
    ("Refunded the charge at the desk and apologised in person.",
     "Refunded one night; explained what went wrong and what we changed."),
    ("Dinner on us, with the chef's apology.",
     "Complimentary drinks at the bar while the room was finished.",
     "Breakfast comped for the rest of the stay."),
    ("Upgraded to a sea-view room at no charge.",
     "Moved to a junior suite for the rest of the stay."),
    ("Flowers and a handwritten card in the room.",
     "Box of local chocolates with a note from the team."),
    ("Voucher for a dinner for two on the next visit.",
     "Spa voucher; guest was delighted."),
    ("Handwritten apology left on the pillow.",
     "Wrote a personal note and called the next morning to check all was well."),
    ("Walked the guest to the room myself and checked everything with them.",
     "Spent half an hour finding the item; returned it to the guest's room.",
     "Rebooked the taxi and waited with the guest until it came."),
    ("Arranged a late check-out at no charge.",
     "Printed and delivered the boarding passes to the room."),
)

REVIEW_COMMENTS = (
    "Good call: the guest wrote to thank us.",
    "Right thing to do; thank you.",
    "Fine. Next time an upgrade might have done it.",
    "Agreed, well handled.",
)
VOID_REASON = "Logged twice by mistake"
