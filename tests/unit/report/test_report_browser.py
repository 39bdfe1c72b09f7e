"""The report opened in headless Chromium: it renders, with no console error, offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_sample import sample_report

from ktrdr_report import write_report
from ktrdr_report.browser import check_page, find_chromium

pytestmark = pytest.mark.skipif(
    find_chromium() is None and os.environ.get("CI") != "true",
    reason="chromium not installed (scripts/bootstrap installs it; required in CI)",
)


def test_report_renders_in_chromium_without_console_errors(tmp_path: Path) -> None:
    page = write_report(tmp_path / "report.html", sample_report(3000))
    result = check_page(page)
    assert result.errors == []
    assert result.rendered == "ok"
    # The charts drew into canvases (lightweight-charts creates them at run time).
    assert result.dom.count("<canvas") >= 4


def test_a_broken_page_is_reported_as_failed(tmp_path: Path) -> None:
    page = write_report(tmp_path / "report.html", sample_report(200))
    text = page.read_text().replace("const LC = window.LightweightCharts;", "const LC = null;")
    page.write_text(text)
    result = check_page(page)
    assert result.rendered == "failed"
    assert result.errors and "null" in result.errors[0]
