"""The exchange-rate importer (issue 15): a dated table of rates, all or nothing, every problem
with its line and column. A row is one rate: on `date`, one `currency` was worth `rate`
`to_currency`. Re-importing a day's rate for the same pair replaces it (the row's code is
"<date> <currency> <to_currency>")."""

from __future__ import annotations

import pandas as pd

from empowerment.models import ExchangeRate
from empowerment.models import table as table_of
from empowerment.money import is_currency
from empowerment.services.importing.job import Job
from empowerment.services.importing.plan import Field, apply_plan, plan_rows

_RATE = r"^[0-9]{1,12}([.,][0-9]{1,12})?$"


def import_exchange_rates(job: Job) -> None:
    f, raw, problems = job.frame, job.raw, job.problems
    codes = {}
    for column in ("currency", "to_currency"):
        code = f[column].str.upper()
        unknown = (code.notna() & ~code.map(is_currency, na_action="ignore").fillna(False).astype(bool)).to_numpy()
        problems.add_mask(f, unknown, column, raw[column], "is not an ISO 4217 currency code; use one such as "
                          "EUR, USD or JPY")
        codes[column] = code
    same = (codes["currency"] == codes["to_currency"]).fillna(False).to_numpy(dtype=bool)
    problems.add_mask(f, same, "to_currency", raw["to_currency"], "is the same currency as the currency "
                      "column; a rate converts one currency into another")
    rate = f["rate"].str.replace(",", ".", regex=False)
    written = rate.str.fullmatch(_RATE).fillna(False).to_numpy(dtype=bool)
    filled = f["rate"].notna().to_numpy(dtype=bool)
    problems.add_mask(f, filled & ~written, "rate", raw["rate"], "is not a rate; write a decimal number "
                      "above 0, for example 0.0061 or 0,0061")
    zero = written & (pd.to_numeric(rate.where(written), errors="coerce") == 0).to_numpy(dtype=bool)
    problems.add_mask(f, zero, "rate", raw["rate"], "is 0; a rate is above 0")
    day = f["date"].dt.strftime("%Y-%m-%d")
    key = day + " " + codes["currency"] + " " + codes["to_currency"]
    _check_repeats(job, key)
    problems.raise_if_any(job.filename)
    data = pd.DataFrame({"code": key, "day": f["date"].dt.date, "currency": codes["currency"],
                         "quote": codes["to_currency"], "rate": rate})  # the decimal text, exactly
    fields = [Field("day", "date", "time"), Field("currency", "currency", "str"),
              Field("quote", "to_currency", "str"), Field("rate", "rate", "str")]
    table = table_of(ExchangeRate)
    plan = plan_rows(job, table, data, fields)
    apply_plan(job, table, plan, fields, {"created_at": job.now})


def _check_repeats(job: Job, key: pd.Series) -> None:
    """A day's rate for a pair given twice in one file: the later lines are problems."""
    repeated = (key.duplicated(keep=False) & key.notna()).to_numpy()
    if not repeated.any():
        return
    lines = job.frame["line"]
    first = lines.groupby(key).transform("min")
    later = repeated & (lines != first).to_numpy()
    job.problems.add(lines.to_numpy()[later], "date", job.raw["date"].to_numpy(dtype=object)[later],
                     ("gives the rate of the same day and currencies as line " + first.astype("Int64").astype(str))
                     .to_numpy()[later])
