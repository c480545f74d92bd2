"""The demo organisation: hotels, teams, people, sign-ins, and name pools for guests.

Everything here is fixed (not random) except the names of ordinary staff, so the README can list
the sign-ins and the end-to-end tests can find the documented people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --- Sign-ins (documented in the package docstring and returned in DemoSummary) ---------------

ADMIN_PASSWORD = "demo-admin"
MANAGER_PASSWORD = "demo-manager"
HR_PASSWORD = "demo-hr"
CX_PASSWORD = "demo-cx"
STAFF_PIN = "1234"

# The first staff member of the Harbour Hotel front desk, for the e2e tests and the README.
TABLET_STAFF_CODE = "E010"
TABLET_STAFF_NAME = "Amelia Hart"


@dataclass(frozen=True)
class DemoLogin:
    username: str | None  # None: staff sign in with their PIN on the shared tablet
    secret: str  # password, or PIN for staff
    role: str
    name: str
    employee_code: str
    teams: tuple[str, ...] = ()  # team codes managed (managers) or belonged to (staff)

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username, "secret": self.secret, "role": self.role,
            "name": self.name, "employee_id": self.employee_code, "teams": list(self.teams),
        }


# --- Places and teams ---------------------------------------------------------------------

@dataclass(frozen=True)
class Property:
    code: str
    name: str
    slug: str  # for manager usernames
    visit_share: float  # share of customers whose home hotel this is
    price_factor: float  # room rates relative to the Harbour Hotel
    incident_rate: float  # chance a visit has an incident
    staff_per_team: tuple[int, int, int, int]  # in TEAM_TYPES order


PROPERTIES: tuple[Property, ...] = (
    Property("HAR", "Harbour Hotel", "harbour", 0.45, 1.00, 0.20, (6, 5, 5, 3)),
    Property("OLD", "Old Town Inn", "oldtown", 0.35, 0.80, 0.21, (5, 5, 4, 2)),
    Property("AIR", "Airport Lodge", "airport", 0.20, 0.60, 0.27, (5, 4, 3, 2)),
)

# (code suffix, name); managers: the first manager of a hotel runs FD + CON, the second HK + RES.
TEAM_TYPES: tuple[tuple[str, str], ...] = (
    ("FD", "Front desk"),
    ("HK", "Housekeeping"),
    ("RES", "Restaurant"),
    ("CON", "Concierge"),
)
FD, HK, RES, CON = range(4)
MANAGER_TEAMS: tuple[tuple[str, tuple[int, int]], ...] = (("", (FD, CON)), (".ops", (HK, RES)))

MANAGER_NAMES = {
    "HAR": ("Grace Okafor", "Daniel Novák"),
    "OLD": ("Chloé Laurent", "Mehmet Kaya"),
    "AIR": ("Sofia Lindqvist", "Kwame Mensah"),
}
OFFICE = (
    # code, name, role, username, password
    ("E001", "Sam Whitaker", "admin", "admin", ADMIN_PASSWORD),
    ("E002", "Priya Raman", "hr", "hr", HR_PASSWORD),
    ("E003", "Lucía Fernández", "cx_lead", "cx", CX_PASSWORD),
)
FIRST_MANAGER_NUMBER = 4  # E004..E009
FIRST_STAFF_NUMBER = 10  # E010..

# --- Names ----------------------------------------------------------------------------------
# (weight, given names, family names, joiner, family first). Most are Latin-script with their own
# diacritics; a few use their own script, as guests' names appear in a booking system.

NAME_POOLS: tuple[tuple[float, tuple[str, ...], tuple[str, ...], str, bool], ...] = (
    (0.22, ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlotte",
            "Thomas", "Grace", "William", "Sophie", "James", "Lucy", "Noah", "Ella", "Henry"),
     ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
      "Walker", "Hughes", "Clarke", "O'Brien", "MacLeod", "Murphy", "Wright"), " ", False),
    (0.11, ("José", "María", "Lucía", "Alejandro", "Sofía", "Javier", "Camila", "Mateo",
            "Valentina", "Diego", "Inés", "Joaquín", "João", "Beatriz"),
     ("García", "Fernández", "López", "Martínez", "Sánchez", "Rodríguez", "Gómez", "Pérez",
      "Silva", "Gonçalves", "Ibáñez"), " ", False),
    (0.08, ("Chloé", "Léa", "Hugo", "Louis", "Camille", "Théo", "Manon", "Élodie", "Zoë", "Noël"),
     ("Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Fournier", "Rousseau", "Bonnet"), " ",
     False),
    (0.08, ("Søren", "Jörg", "Lena", "Mia", "Lukas", "Freja", "Åsa", "Björn", "Ingrid", "Mathias"),
     ("Müller", "Schmidt", "Nielsen", "Andersson", "Johansson", "Weiß", "Hoffmann", "Jørgensen"),
     " ", False),
    (0.05, ("Łukasz", "Zofia", "Wojciech", "Agnieszka", "Jiří", "Tereza", "Małgorzata", "Ondřej"),
     ("Kowalski", "Nowak", "Wiśniewska", "Dvořák", "Novák", "Zieliński", "Svoboda"), " ", False),
    (0.06, ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Alessia", "Niccolò"),
     ("Rossi", "Bianchi", "Romano", "Esposito", "Ricci", "De Luca", "Colombo"), " ", False),
    (0.08, ("Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Aisha", "Siddharth", "Meera"),
     ("Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Singh", "Chatterjee"), " ", False),
    (0.06, ("Chinedu", "Ngozi", "Oluwaseun", "Amara", "Kwame", "Abena", "Tendai", "Wanjiru"),
     ("Okafor", "Adeyemi", "Mensah", "Okonkwo", "Boateng", "Mwangi", "Dlamini"), " ", False),
    (0.06, ("Omar", "Layla", "Youssef", "Fatima", "Karim", "Nour", "Rania", "Tariq"),
     ("Haddad", "Khalil", "Mansour", "Nasser", "El-Amin", "Saleh"), " ", False),
    (0.04, ("Elif", "Mehmet", "Zeynep", "Emre", "Ayşe", "Burak"),
     ("Yılmaz", "Kaya", "Demir", "Çelik", "Şahin", "Öztürk"), " ", False),
    (0.04, ("Minh", "Linh", "Thảo", "Quang", "Huy", "Ngọc"),
     ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"), " ", False),
    # Own scripts (about 1 guest in 20).
    (0.012, ("芳", "伟", "敏", "静", "磊", "洋", "婷", "杰"), ("王", "李", "张", "刘", "陈", "杨"), "", True),
    (0.008, ("花子", "一郎", "美咲", "健太", "陽菜", "翔"), ("佐藤", "鈴木", "高橋", "田中", "渡辺"), " ", True),
    (0.006, ("민준", "서연", "지훈", "하은", "도윤"), ("김", "이", "박", "최", "정"), "", True),
    (0.006, ("Дмитрий", "Сергей", "Алексей", "Иван"), ("Иванов", "Смирнов", "Петров", "Волков"), " ",
     False),
    (0.006, ("Анна", "Ольга", "Наталья", "Екатерина"), ("Иванова", "Смирнова", "Петрова", "Волкова"),
     " ", False),
    (0.004, ("Νίκος", "Γιώργος", "Κώστας"), ("Παπαδόπουλος", "Γεωργίου", "Οικονόμου"), " ", False),
    (0.004, ("محمد", "فاطمة", "أحمد", "ليلى"), ("الأحمد", "الحسن", "العلي"), " ", False),
    (0.003, ("נועה", "דוד", "תמר"), ("כהן", "לוי", "מזרחי"), " ", False),
    (0.003, ("अनन्या", "राहुल", "प्रिया"), ("शर्मा", "वर्मा", "पटेल"), " ", False),
    (0.003, ("สมชาย", "สมหญิง", "อนงค์"), ("ใจดี", "ศรีสุข", "วงศ์ไทย"), " ", False),
)

# Latin-script pools only, for staff badges.
STAFF_POOLS = tuple(range(11))


def draw_names(rng: np.random.Generator, n: int, pools: tuple[int, ...] | None = None) -> list[str]:
    """`n` full names from the pools, vectorised per pool."""
    chosen = pools if pools is not None else tuple(range(len(NAME_POOLS)))
    weights = np.array([NAME_POOLS[i][0] for i in chosen], dtype=float)
    pool_of = rng.choice(np.array(chosen), size=n, p=weights / weights.sum())
    names = np.empty(n, dtype=object)
    for pool in chosen:
        rows = np.flatnonzero(pool_of == pool)
        if rows.size == 0:
            continue
        _, given, family, joiner, family_first = NAME_POOLS[pool]
        g = np.array(given, dtype=object)[rng.integers(0, len(given), rows.size)]
        f = np.array(family, dtype=object)[rng.integers(0, len(family), rows.size)]
        first, second = (f, g) if family_first else (g, f)
        names[rows] = first + joiner + second
    return names.tolist()


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
