"""The demo organisation: hotels, teams, people, sign-ins, and name pools for guests.

Everything here is fixed (not random) except the names of ordinary staff, so the README can list
the sign-ins and the end-to-end tests can find the documented people.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from empowerment.demo.model import DAY, SEGMENTS, Simulation, Staffing
from empowerment.demo.spending import PolicyTable

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
    Property("HAR", "Harbour Hotel", "harbour", 0.45, 1.00, 0.22, (6, 5, 5, 3)),
    Property("OLD", "Old Town Inn", "oldtown", 0.35, 0.80, 0.23, (5, 5, 4, 2)),
    Property("AIR", "Airport Lodge", "airport", 0.20, 0.60, 0.30, (5, 4, 3, 2)),
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

GAP_SHARE = 0.15  # staff who never use their budget


# --- Building the organisation -----------------------------------------------------------


@dataclass(frozen=True)
class Org:
    locations: pd.DataFrame  # id, code, name
    teams: pd.DataFrame  # id, code, name, location_id, hotel, type, manager (employee index)
    employees: pd.DataFrame  # id, code, name, role, team (index or -1), username, secret, ...
    staffing: Staffing
    reviewer: np.ndarray  # employee index -> who reviews their gestures
    live: list[tuple[int, str, str, int, str]]  # (employee index, type, category, cents, note)


def build_org(rng: np.random.Generator) -> Org:
    locations = pd.DataFrame({
        "id": np.arange(1, len(PROPERTIES) + 1),
        "code": [p.code for p in PROPERTIES],
        "name": [p.name for p in PROPERTIES],
    })
    team_rows = []
    for h, prop in enumerate(PROPERTIES):
        for ty, (suffix, type_name) in enumerate(TEAM_TYPES):
            team_rows.append(dict(id=h * 4 + ty + 1, code=f"{prop.code}-{suffix}",
                                  name=f"{type_name} ({prop.name})", location_id=h + 1,
                                  hotel=h, type=ty, manager=-1))
    teams = pd.DataFrame(team_rows)

    people: list[dict[str, object]] = []
    for code, name, role, username, password in OFFICE:
        people.append(dict(code=code, name=name, role=role, team=-1, username=username,
                           secret=password, pin=False, managed=()))
    number = FIRST_MANAGER_NUMBER
    for h, prop in enumerate(PROPERTIES):
        for k, (suffix, managed) in enumerate(MANAGER_TEAMS):
            managed_idx = tuple(h * 4 + ty for ty in managed)
            people.append(dict(code=f"E{number:03d}", name=MANAGER_NAMES[prop.code][k],
                               role="manager", team=managed_idx[0],
                               username=f"manager.{prop.slug}{suffix}",
                               secret=MANAGER_PASSWORD, pin=True, managed=managed_idx))
            for team in managed_idx:
                teams.loc[team, "manager"] = len(people) - 1
            number += 1
    n_staff = sum(sum(p.staff_per_team) for p in PROPERTIES)
    taken = {str(p["name"]) for p in people} | {TABLET_STAFF_NAME}
    pool = [n for n in dict.fromkeys(draw_names(rng, n_staff * 4, STAFF_POOLS))
            if n not in taken]
    names = iter([TABLET_STAFF_NAME, *pool])
    number = FIRST_STAFF_NUMBER
    for h, prop in enumerate(PROPERTIES):
        for ty, count in enumerate(prop.staff_per_team):
            for _ in range(count):
                people.append(dict(code=f"E{number:03d}", name=next(names), role="staff",
                                   team=h * 4 + ty, username=None, secret=STAFF_PIN,
                                   pin=True, managed=()))
                number += 1
    employees = pd.DataFrame(people)
    employees.insert(0, "id", np.arange(1, len(employees) + 1))
    is_staff = (employees["role"] == "staff").to_numpy()

    def first_staff(team_code: str, nth: int = 0) -> int:
        team = int(teams.index[teams["code"] == team_code][0])
        return int(np.flatnonzero(is_staff & (employees["team"] == team).to_numpy())[nth])

    live = [
        (first_staff("HAR-FD"), "comp", "Long wait", 3_500,
         "Twenty-minute check-in queue; drinks at the bar on us while the room was finished."),
        (first_staff("HAR-FD", 1), "refund", "Billing error", 45_000,
         "Charged twice for the suite; refunding one night while accounts investigates."),
        (first_staff("HAR-HK"), "voucher", "Cleanliness", 22_000,
         "Room not serviced on day two of three; spa voucher for two."),
        (first_staff("OLD-RES"), "comp", "Food & drink", 18_000,
         "Anniversary dinner 50 minutes late and cold; dinner for two comped."),
    ]
    protected = {index for index, *_ in live}
    candidates = np.array([i for i in np.flatnonzero(is_staff) if i not in protected])
    gap = rng.choice(candidates, size=int(round(GAP_SHARE * is_staff.sum())), replace=False)
    engagement = np.where(is_staff, rng.beta(5.0, 2.5, len(employees)), 0.0)
    engagement[(employees["role"] == "manager").to_numpy()] = 0.55
    engagement[gap] = 0.0
    weight = np.exp(rng.normal(0.0, 0.35, len(employees)))
    employees["engagement"] = engagement
    employees["gap"] = False
    employees.loc[gap, "gap"] = True

    members, weights = [], []
    for team in range(len(teams)):
        staff = np.flatnonzero(is_staff & (employees["team"] == team).to_numpy())
        manager = int(teams.loc[team, "manager"])
        members.append(np.append(staff, manager))
        weights.append(np.append(weight[staff], 0.2))
    admin = 0
    reviewer = np.array([
        int(teams.loc[int(t), "manager"]) if role == "staff" else admin
        for role, t in zip(employees["role"], employees["team"], strict=True)
    ])
    return Org(locations, teams, employees, Staffing(members, weights, engagement), reviewer, live)


def build_policies(org_: Org, months: list[date]) -> PolicyTable:
    first = months[0]
    raised = months[-13] if len(months) > 13 else months[len(months) // 2]
    rows = [
        dict(name="Standard", team_id=None, role=None, allowance_cents=40_000,
             review_above_cents=15_000, approval_above_cents=40_000, effective_from=first),
        dict(name="Standard", team_id=None, role=None, allowance_cents=50_000,
             review_above_cents=15_000, approval_above_cents=40_000, effective_from=raised),
        dict(name="Managers", team_id=None, role="manager", allowance_cents=150_000,
             review_above_cents=50_000, approval_above_cents=120_000, effective_from=first),
    ]
    concierge = org_.teams.loc[org_.teams["type"] == CON]
    for team_id, location_id in zip(concierge["id"], concierge["location_id"], strict=True):
        rows.append(dict(name=f"Concierge ({org_.locations.loc[location_id - 1, 'name']})",
                         team_id=int(team_id), role=None, allowance_cents=100_000,
                         review_above_cents=25_000, approval_above_cents=75_000,
                         effective_from=first))
    table = pd.DataFrame(rows)
    table.insert(0, "id", np.arange(1, len(table) + 1))
    emp = org_.employees
    team_id = np.where(emp["team"] >= 0, emp["team"] + 1, -1)
    by = np.full((len(emp), len(months)), -1, dtype=np.int64)
    for m, month_start in enumerate(months):
        default = int(table.index[(table["name"] == "Standard")
                                  & (table["effective_from"] <= month_start)][-1])
        by[:, m] = default
        by[(emp["role"] == "manager").to_numpy(), m] = 2
        for pos in table.index[table["team_id"].notna()]:
            by[team_id == table.loc[pos, "team_id"], m] = pos
    return PolicyTable(table, by)


# --- Customers ------------------------------------------------------------------------------


def months_between(start: datetime, now: datetime) -> list[date]:
    first = np.datetime64(start.date(), "M")
    last = np.datetime64(now.date(), "M")
    return [m.astype("datetime64[D]").item() for m in np.arange(first, last + 1)]


def ascii_name(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(part.lower() for part in "".join(
        c if c.isalnum() or c == " " else " " for c in plain).split())


def build_customers(rng: np.random.Generator, sim: Simulation, start: np.datetime64) -> pd.DataFrame:
    n = sim.segment.size
    names = draw_names(rng, n)
    codes = [f"C{i:05d}" for i in range(1, n + 1)]
    has_email = rng.random(n) < 0.65
    emails = [
        f"{ascii_name(name) or 'guest'}{i % 97}@example.com" if ok else None
        for i, (name, ok) in enumerate(zip(names, has_email, strict=True), start=1)
    ]
    area = rng.choice([202, 212, 312, 415, 617, 713], n)
    local = rng.integers(0, 10_000, n)
    phones = [f"+1 {a} 555 {b:04d}" if ok else None
              for a, b, ok in zip(area.tolist(), local.tolist(), rng.random(n) < 0.8, strict=True)]
    last_visit = pd.Series(sim.visit_time_s).groupby(sim.visit_customer).max()
    in_house = last_visit.reindex(range(n)).fillna(-1).to_numpy() >= sim.end_s - 3 * DAY
    rooms = np.where(in_house, rng.integers(1, 7, n) * 100 + rng.integers(1, 41, n), 0)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "code": codes, "name": names,
        "segment": np.take(np.array(SEGMENTS, dtype=object), sim.segment),
        "email": emails, "phone": phones,
        "room": [str(r) if r else None for r in rooms.tolist()],
        "first_seen_at": start + sim.first_visit_s.astype("timedelta64[s]"),
    })
