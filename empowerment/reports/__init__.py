"""The joint report for HR and CX leads: one `JointReport` object (`assemble`), drawn as a page,
PDF, XLSX, CSV or HTML by the `render_*` modules. Pseudonyms in `privacy`, formula neutralising
in `safety`; the empowerment SQL is `empowerment.queries.report_metrics`, the charts
`empowerment.charts.report`, the hand-over digest `digest`."""

from empowerment.reports.assemble import ReportRequest, build_joint_report, check_access
from empowerment.reports.model import SECTIONS, JointReport, ReportChart, ReportTable, parse_period

__all__ = [
    "SECTIONS",
    "JointReport",
    "ReportChart",
    "ReportRequest",
    "ReportTable",
    "build_joint_report",
    "check_access",
    "parse_period",
]
