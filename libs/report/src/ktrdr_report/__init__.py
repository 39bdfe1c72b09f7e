"""ktrdr_report: one self-contained, offline HTML report of a training and its backtest.

>>> from ktrdr_report import ReportData, write_report
>>> write_report("report.html", report_from_api(client, run_id))   # a KtrdrClient, a stored run
"""

from ktrdr_report.build import report_from_api
from ktrdr_report.model import (
    CLASSES,
    Candle,
    ClassScores,
    EquityPoint,
    Line,
    Memberships,
    Metric,
    ReportData,
    Signal,
    Trade,
    Training,
)
from ktrdr_report.render import ReportError, find_charts_js, render_report, write_report

__all__ = [
    "CLASSES",
    "Candle",
    "ClassScores",
    "EquityPoint",
    "Line",
    "Memberships",
    "Metric",
    "ReportData",
    "ReportError",
    "Signal",
    "Trade",
    "Training",
    "find_charts_js",
    "render_report",
    "report_from_api",
    "write_report",
]
