"""The HTML report: self-contained, offline, small, and saying what the data says."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_sample import sample_report

from ktrdr_report import ReportError, find_charts_js, render_report, write_report
from ktrdr_report.model import Line, to_json_value


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.metric_cells: dict[tuple[str, str], str] = {}
        self._metric: str | None = None
        self._column: str | None = None
        self.payload = ""
        self._in_payload = False
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key):
                self.urls.append(str(a[key]))
        if tag == "tr" and a.get("data-metric"):
            self._metric = a["data-metric"]
        if tag == "td" and a.get("data-column"):
            self._column = a["data-column"]
        self._in_payload = tag == "script" and a.get("id") == "report-data"
        self.scripts += tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._column = None
        if tag == "script":
            self._in_payload = False

    def handle_data(self, data: str) -> None:
        if self._metric and self._column:
            self.metric_cells[(self._metric, self._column)] = data.strip()
        if self._in_payload:
            self.payload += data


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(sample_report())


def test_report_loads_nothing_from_the_network(html: str) -> None:
    page = _Collect()
    page.feed(html)
    external = [u for u in page.urls if re.match(r"^(https?:)?//", u)]
    # The only external references are the links the chart licence asks for (not loaded).
    assert set(external) <= {"https://www.tradingview.com/"}
    assert "default-src 'none'" in html  # the page's CSP forbids any fetch
    assert "TradingView Lightweight Charts" in html and "Apache" in html


def test_report_of_5000_bars_stays_under_one_and_a_half_megabytes(html: str) -> None:
    assert len(html.encode()) < 1_500_000


def test_metrics_table_and_data_block_carry_the_given_numbers(html: str) -> None:
    data = sample_report()
    page = _Collect()
    page.feed(html)
    assert page.metric_cells[("total_return_pct", "strategy")] == "1.25"
    assert page.metric_cells[("sharpe_ratio", "majority class")] == "–"
    payload = json.loads(page.payload.replace("<\\/", "</"))
    assert payload["candles"]["close"][:3] == [to_json_value(c.close) for c in data.candles[:3]]
    assert len(payload["trades"]) == len(data.trades)
    assert payload["trades"][0]["exit_reason"] == data.trades[0].exit_reason
    # 5000 bars of memberships are thinned to at most 1500 columns, and the page says so.
    assert len(payload["memberships"]["times"]) <= 1500
    assert "every 4th bar is shown" in html


def test_inlined_text_cannot_close_its_script_element() -> None:
    data = sample_report(300)
    name = "</script><script>alert(1)</script>"
    html = render_report(dataclasses.replace(data, lines=[Line(name, [0], [1.0])]))
    page = _Collect()
    page.feed(html)
    assert page.scripts == 4  # the page's own four: nothing in the data opened another
    payload = json.loads(page.payload.replace("<\\/", "</"))
    assert payload["lines"][0]["name"] == name


def test_write_is_atomic(tmp_path: Path) -> None:
    target = write_report(tmp_path / "r.html", sample_report(200))
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_missing_chart_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ktrdr_report import render as render_mod

    monkeypatch.delenv("KTRDR_CHARTS_JS", raising=False)
    monkeypatch.setattr(render_mod, "CHARTS_JS_RELATIVE", Path("no/such/library.js"))
    with pytest.raises(ReportError, match="scripts/bootstrap"):
        find_charts_js()
