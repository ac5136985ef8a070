"""Analysts' reports over the decision log and the alert desk: aggregate SQL plus interval math."""

from services.reports.alerts import AlertReports
from services.reports.levers import LeverReports
from services.reports.rollup import LeverRollup

__all__ = ["AlertReports", "LeverReports", "LeverRollup"]
