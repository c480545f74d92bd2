"""UCI "Online Retail" -> the app's canonical CSV files, with SIMULATED recovery gestures.

    python scripts/uci_to_canonical.py online_retail.csv.gz [--out data/uci] [--seed 0] [--share 0.4]
    python -m empowerment import customers data/uci/customers.csv   # then employees, transactions,
                                                                    # incidents, gestures (that order)
    python -m empowerment payoff

Data: "Online Retail", Daqing Chen, Sai Liang Sain and Kun Guo (2012), UCI Machine Learning
Repository, https://doi.org/10.24432/C5BW33, licence CC BY 4.0. 541,909 invoice lines of a UK
online retailer, 2010-12-01 to 2011-12-09: InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country. Invoice numbers starting with "C" are cancellations.

What is real and what is simulated:
- customers.csv (real): every CustomerID; name "Customer <id>", segment = country of their first
  invoice. Lines without a CustomerID (about a quarter) cannot be linked to anyone and are dropped.
- transactions.csv (real): one row per invoice, amount = sum(Quantity x UnitPrice) rounded to the
  cent, at the invoice's (earliest) time. Cancellations are KEPT as negative amounts: they are the
  money going back, so revenue windows are net of returns; the analytics counts only positive
  amounts as a customer coming back, so a cancellation is never a "return visit".
- incidents.csv (real): each customer's FIRST cancellation invoice is their incident, at its
  time, location = its country. Category "Cancellation" when a cancelled item had been ordered by
  the same customer within the 24 hours before (an order called off), else "Return" (goods sent
  back later).
- employees.csv (simulated): a "UK desk" (location United Kingdom) and an "International desk",
  each with staff and a manager; every incident is handled by a seeded random member of the desk
  matching its country.
- gestures.csv (SIMULATED): the data has no recovery gestures. A seeded random share (default 40%)
  of incidents gets one gesture from its handler, 5 minutes to 2 days after the incident, of a
  type drawn from a menu with a cost in that type's range (personal notes and time are free).
  Assignment is pure chance and nothing is injected into the purchases, so the TRUE effect of a
  gesture here is zero: the adjusted uplift should be about 0 with its CI covering 0, and the
  naive gap should also be near 0 because random assignment leaves no confounding. This shows the
  method on real purchase behaviour (returns, seasonality, loyal and one-off customers), not a
  real effect of recovery.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DESKS = {  # team -> (location, staff, manager)
    "UK desk": ("United Kingdom", 8, 1),
    "International desk": ("", 4, 1),
}
HOME = "United Kingdom"
GESTURE_MENU = {  # type -> (probability, lowest cost, highest cost) in currency units
    "refund": (0.20, 5, 60),
    "voucher": (0.25, 5, 25),
    "gift": (0.10, 10, 30),
    "upgrade": (0.10, 0, 20),
    "personal_note": (0.20, 0, 0),
    "time": (0.15, 0, 0),
}
CANCELLED_ORDER_WINDOW = pd.Timedelta(hours=24)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def read_lines(path: Path) -> pd.DataFrame:
    lines = pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "Country": str},
        usecols=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
    )
    lines = lines.loc[lines["CustomerID"].notna()].copy()
    lines["customer"] = lines["CustomerID"].astype("int64").astype(str)
    lines["InvoiceNo"] = lines["InvoiceNo"].str.strip()
    lines["Country"] = lines["Country"].fillna("Unspecified").str.strip()
    lines["time"] = _times(lines["InvoiceDate"])
    lines["cancelled"] = lines["InvoiceNo"].str.upper().str.startswith("C")
    lines["cents"] = lines["Quantity"].to_numpy(dtype=float) * lines["UnitPrice"].to_numpy(dtype=float) * 100
    return lines


def _times(text: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(text, format="ISO8601")
    except ValueError:  # the original spreadsheet's "12/1/2010 8:26"
        return pd.to_datetime(text, format="%m/%d/%Y %H:%M")


def invoices(lines: pd.DataFrame) -> pd.DataFrame:
    grouped = lines.groupby("InvoiceNo", sort=False)
    frame = grouped.agg(customer=("customer", "first"), time=("time", "min"), cents=("cents", "sum"),
                        country=("Country", "first"), cancelled=("cancelled", "first")).reset_index()
    frame["cents"] = np.round(frame["cents"].to_numpy()).astype(np.int64)
    return frame.sort_values(["time", "InvoiceNo"], kind="stable", ignore_index=True)


def money(cents: pd.Series) -> pd.Series:
    values = cents.to_numpy(dtype=np.int64)
    sign = np.where(values < 0, "-", "")
    whole, rest = np.divmod(np.abs(values), 100)
    return pd.Series(sign, index=cents.index) + whole.astype(str) + "." + pd.Series(rest, index=cents.index).astype(
        str).str.zfill(2)


def customers_csv(invoice_rows: pd.DataFrame) -> pd.DataFrame:
    first = invoice_rows.drop_duplicates("customer")
    return pd.DataFrame({"customer_id": first["customer"].to_numpy(),
                         "name": "Customer " + first["customer"].to_numpy(),
                         "segment": first["country"].to_numpy()})


def transactions_csv(invoice_rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"transaction_id": invoice_rows["InvoiceNo"].to_numpy(),
                         "customer_id": invoice_rows["customer"].to_numpy(),
                         "occurred_at": invoice_rows["time"].dt.strftime(TIME_FORMAT).to_numpy(),
                         "amount": money(invoice_rows["cents"]).to_numpy()})


def employees_csv() -> pd.DataFrame:
    rows = []
    number = 1
    for team, (location, staff, managers) in DESKS.items():
        for index in range(staff + managers):
            role = "manager" if index >= staff else "staff"
            rows.append({"employee_id": f"E{number:03d}", "name": f"{team.split()[0]} {role} {index + 1}",
                         "role": role, "team": team, "location": location})
            number += 1
    return pd.DataFrame(rows, columns=["employee_id", "name", "role", "team", "location"])


def first_cancellations(lines: pd.DataFrame, invoice_rows: pd.DataFrame) -> pd.DataFrame:
    cancelled = invoice_rows.loc[invoice_rows["cancelled"]]
    first = cancelled.drop_duplicates("customer").copy()  # already in time order
    first["category"] = np.where(first["InvoiceNo"].isin(_called_off(lines, first)), "Cancellation", "Return")
    return first


def _called_off(lines: pd.DataFrame, first: pd.DataFrame) -> pd.Series:
    """Incident invoices with an item the customer had ordered in the 24 hours before."""
    cancelled_items = lines.loc[lines["InvoiceNo"].isin(first["InvoiceNo"]), ["InvoiceNo", "customer", "StockCode", "time"]]
    orders = lines.loc[~lines["cancelled"], ["customer", "StockCode", "time"]].rename(columns={"time": "ordered"})
    pairs = cancelled_items.merge(orders, on=["customer", "StockCode"])
    recent = (pairs["ordered"] <= pairs["time"]) & (pairs["time"] - pairs["ordered"] <= CANCELLED_ORDER_WINDOW)
    return pairs.loc[recent, "InvoiceNo"].drop_duplicates()


def incidents_csv(first: pd.DataFrame, employees: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    handler = _handlers(first["country"], employees, rng)
    return pd.DataFrame({
        "incident_id": "I-" + first["InvoiceNo"].to_numpy(),
        "customer_id": first["customer"].to_numpy(),
        "occurred_at": first["time"].dt.strftime(TIME_FORMAT).to_numpy(),
        "category": first["category"].to_numpy(),
        "location": first["country"].to_numpy(),
        "description": "Cancellation invoice " + first["InvoiceNo"].to_numpy() + " (" + money(-first["cents"]).to_numpy()
        + " back)",
        "employee_id": handler,
    })


def _handlers(countries: pd.Series, employees: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    staff = employees.loc[employees["role"] == "staff"]
    uk = staff.loc[staff["team"] == "UK desk", "employee_id"].to_numpy()
    abroad = staff.loc[staff["team"] == "International desk", "employee_id"].to_numpy()
    home = countries.to_numpy() == HOME
    return np.where(home, uk[rng.integers(0, uk.size, home.size)], abroad[rng.integers(0, abroad.size, home.size)])


def gestures_csv(incidents: pd.DataFrame, rng: np.random.Generator, share: float) -> pd.DataFrame:
    """A seeded random `share` of incidents gets one gesture: random assignment, no effect."""
    chosen = incidents.loc[rng.random(len(incidents)) < share]
    names = np.array(list(GESTURE_MENU))
    weights = np.array([GESTURE_MENU[n][0] for n in names])
    kind = rng.choice(names.size, len(chosen), p=weights / weights.sum())
    low = np.array([GESTURE_MENU[n][1] for n in names])[kind]
    high = np.array([GESTURE_MENU[n][2] for n in names])[kind]
    cents = np.round((low + rng.random(len(chosen)) * (high - low)) * 100).astype(np.int64)
    delay = pd.to_timedelta(rng.uniform(5 / 1440, 2.0, len(chosen)), unit="D").round("s")
    when = pd.to_datetime(chosen["occurred_at"]).to_numpy() + delay.to_numpy()
    return pd.DataFrame({
        "gesture_id": "G-" + chosen["incident_id"].str.removeprefix("I-").to_numpy(),
        "incident_id": chosen["incident_id"].to_numpy(),
        "employee_id": chosen["employee_id"].to_numpy(),
        "occurred_at": pd.Series(when).dt.strftime(TIME_FORMAT).to_numpy(),
        "type": names[kind],
        "cost": money(pd.Series(cents)).to_numpy(),
        "note": "",
    })


def convert(source: Path, out: Path, seed: int = 0, share: float = 0.4) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    lines = read_lines(source)
    invoice_rows = invoices(lines)
    employees = employees_csv()
    incidents = incidents_csv(first_cancellations(lines, invoice_rows), employees, rng)
    frames = {
        "customers": customers_csv(invoice_rows),
        "employees": employees,
        "transactions": transactions_csv(invoice_rows),
        "incidents": incidents,
        "gestures": gestures_csv(incidents, rng, share),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, frame in frames.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written[name] = path
        print(f"wrote {path} ({len(frame):,} rows)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="online_retail.csv or .csv.gz (UCI column names)")
    parser.add_argument("--out", type=Path, default=Path("data/uci"), help="folder for the CSVs (default data/uci)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated staff and gestures (default 0)")
    parser.add_argument("--share", type=float, default=0.4,
                        help="share of incidents given a simulated gesture (default 0.4)")
    args = parser.parse_args(argv)
    if not 0 <= args.share <= 1:
        parser.error("--share must be between 0 and 1")
    if not args.source.exists():
        print(f"error: {args.source} does not exist", file=sys.stderr)
        return 2
    convert(args.source, args.out, args.seed, args.share)
    print("Import in this order: customers, employees, transactions, incidents, gestures "
          "(python -m empowerment import KIND FILE).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
