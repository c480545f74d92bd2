"""CSV import: a file lands whole, in one transaction, or not at all.

    summary = import_csv(db, "transactions", "pos_export.csv", actor=admin, column_mapping={"amount": "Total"})

How a file is handled:

1. Read as UTF-8 (a byte-order mark is accepted). Bytes that are not UTF-8 (UTF-16 among them,
   with or without its byte-order mark) are reported with their line, asking for UTF-8. Lines
   ending in a lone CR are read as lines.
2. The separator is the chosen one (`file_format`, a `csvformat.FileFormat`) or detected from
   the header line (comma, semicolon or tab: the one giving the most known column names). The
   header is checked: missing required columns, duplicated columns and a separator that does not
   fit are refused with one message; extra columns are ignored and named in
   `ImportSummary.warnings`. `column_mapping` ({canonical name: header in the file}) is applied
   first.
3. Every cell is checked with vectorised pandas operations and EVERY problem is collected as
   {"line", "column", "value", "reason"}; `line` is the physical line in the file (header = 1,
   quoted cells spanning lines are counted). References to records in the database (an incident's
   employee, a gesture's incident and employee) are checked next. Any problem raises
   `ImportFailed` before anything is written, unless `valid_rows_only`: then the rows with a
   problem are set aside (`ImportSummary.rejects`, `rejects_csv`) and the others are written, in
   the same one unit of work (`service._import_valid_rows`). The list holds at most `MAX_PROBLEMS` entries
   (the first by line); the message always gives the full count.
4. One write unit (`db.write()`) then inserts new rows and updates changed rows in bulk, matched by
   id (the `code` column): repeating an import changes nothing. Unknown customers referenced by
   transactions and incidents are created ("Customer <id>"), unknown teams and locations named by
   employees (and locations named by incidents) too; all are counted in the summary. One
   AuditEvent ("import.<kind>") records the counts, never row contents.

Values:
- Amounts: decimal units of the row's currency -> its minor units (`amounts`): a transaction's is
  its customer's location's, a gesture's its giver's, else the installation's (JPY "1250" -> 1250
  yen, EUR "12,50" -> 1250 cents); an amount with more decimals than its currency has is refused
  with its line and column. Otherwise the same rules as `money.parse_cents` (whose messages are
  used for bad values). The decimal mark is the chosen one
  or detected: a comma when some amounts are written "12,50" / "1.234,5" and none "12.50" /
  "1,234.5"; else a dot, and then a comma is accepted only as a thousands separator ("12,50" is
  refused rather than read as 1,250.00). Only transaction amounts may be negative (returns).
- Times: ISO 8601 dates ("2024-03-31", midnight) or datetimes ("2024-03-31T14:05[:00[.ffffff]]",
  a space instead of "T" is fine); with the date format "dmy" or "mdy" also 31/03/2024 (or with
  dots or dashes), optionally followed by a time. A cell must start with a digit: pandas would
  read "now" and "today". Times are stored in UTC, like the rest of the app: a time WITHOUT an
  offset is the business's wall clock (`EMPOWERMENT_TIME_ZONE`; in the hour the clock goes back,
  the second, standard-time reading; in the hour it skips, the hour after); a time WITH an offset
  ("Z", "+02:00") is read with it. The summary says which zone was used. Sub-microsecond digits are truncated. Years outside 1900-2100 are refused.
- Ids are strings (surrounding spaces removed), at most 64 characters, matched exactly; customer
  ids ignoring case, like `models.lookups.customer_by_code`. No cell may hold a NUL character.
- Text cells (ids, names, notes...) that start with a quote `'` before `=`, `+`, `-`, `@`, a tab or
  a carriage return (the characters `reports.safety` neutralises; quotes may repeat) lose that one
  quote: it is the formula escape `export_csv` adds so spreadsheets never run the cell
  (`csvschema.unescape_formulas`), so an exported file imports unchanged.
- Empty optional cells store NULL. An optional column that is absent from the file leaves that
  field of existing records as it is.

Gestures are history: they are recorded as they were (source "import", status "logged", no budget)
and budget limits are not applied; gestures above the customer daily cap are counted in a warning.
A gesture logged in the app (source other than "import") may be re-imported unchanged but not
changed by an import, because its ledger entries would no longer match.

Modules, in the order a file meets them: `reading` (bytes -> cells, with `header`), `validation`
(cells -> typed values, with `values` and `problems`), `service` (`import_csv`, one unit of work),
`kinds` and `gestures` (one importer per kind), `references` (customers, locations, employees a
file refers to), `plan` (insert / update / unchanged by id), `lookup` and `writing` (bulk reads and
writes per backend), `summary` (`ImportSummary`, progress).
"""

from __future__ import annotations

from empowerment.csvformat import FileFormat
from empowerment.services.importing.reading import Source, preview_file
from empowerment.services.importing.rejects import rejects_csv
from empowerment.services.importing.service import import_csv
from empowerment.services.importing.summary import ImportSummary, ProgressCallback

__all__ = ["FileFormat", "ImportSummary", "ProgressCallback", "Source", "import_csv", "preview_file", "rejects_csv"]
