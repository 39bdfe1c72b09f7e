// Draws the report's interactive charts from the inlined JSON (no network).
(function () {
  "use strict";
  const LC = window.LightweightCharts;
  const data = JSON.parse(document.getElementById("report-data").textContent);
  // Long series come column by column; rebuild them as rows.
  ["candles", "signals", "equity"].forEach((key) => {
    const columns = data[key];
    const names = Object.keys(columns);
    const n = names.length ? columns[names[0]].length : 0;
    const rows = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = {};
      names.forEach((name) => { row[name] = columns[name][i]; });
      rows[i] = row;
    }
    data[key] = rows;
  });
  const classes = ["BUY", "HOLD", "SELL"];
  const colours = { BUY: "#26a69a", HOLD: "#9e9e9e", SELL: "#ef5350" };
  const palette = ["#2962ff", "#ff6d00", "#8e24aa", "#00897b", "#c0ca33", "#6d4c41"];

  function formatTime(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
  }
  document.querySelectorAll("td.time").forEach((td) => {
    td.textContent = formatTime(Number(td.dataset.time));
  });

  function chart(id, height) {
    const el = document.getElementById(id);
    return LC.createChart(el, {
      height: height,
      autoSize: true,
      layout: { attributionLogo: true, background: { color: "#ffffff" }, textColor: "#333" },
      timeScale: { timeVisible: true, secondsVisible: false },
      rightPriceScale: { borderVisible: false },
      grid: { vertLines: { color: "#f0f0f0" }, horzLines: { color: "#f0f0f0" } },
    });
  }
  function points(times, values) {
    const out = [];
    for (let i = 0; i < times.length; i++) {
      if (values[i] !== null) out.push({ time: times[i], value: values[i] });
    }
    return out;
  }

  function drawPrice() {
    const groups = new Set(data.lines.filter((l) => l.pane !== "price").map((l) => l.name.split(".")[0]));
    const height = 380 + 100 * groups.size;
    document.getElementById("chart-price").style.height = height + "px";
    const price = chart("chart-price", height);
    const candles = price.addSeries(LC.CandlestickSeries, {
      upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
      wickUpColor: "#26a69a", wickDownColor: "#ef5350",
      priceFormat: { type: "price", precision: 5, minMove: 0.00001 },
    });
    candles.setData(data.candles);
    // One pane below the price per oscillator (its outputs together: MACD line, signal and
    // histogram share a scale; RSI and MACD do not).
    const oscillatorPanes = {};
    data.lines.forEach((line, i) => {
      const group = line.name.split(".")[0];
      if (line.pane !== "price" && !(group in oscillatorPanes)) {
        oscillatorPanes[group] = Object.keys(oscillatorPanes).length + 1;
      }
      const pane = line.pane === "price" ? 0 : oscillatorPanes[group];
      const series = price.addSeries(LC.LineSeries, {
        color: palette[i % palette.length], lineWidth: 1, title: line.name,
        priceLineVisible: false, lastValueVisible: false,
      }, pane);
      series.setData(points(line.times, line.values));
    });
    const markers = [];
    data.trades.forEach((t, i) => {
      const long = t.side === "LONG";
      markers.push({
        time: t.entry_time, position: long ? "belowBar" : "aboveBar",
        color: long ? colours.BUY : colours.SELL, shape: long ? "arrowUp" : "arrowDown",
        text: "#" + (i + 1) + " " + t.entry_reason,
      });
      markers.push({
        time: t.exit_time, position: long ? "aboveBar" : "belowBar", color: "#555",
        shape: "circle", text: "#" + (i + 1) + " exit: " + t.exit_reason,
      });
    });
    markers.sort((a, b) => a.time - b.time);
    LC.createSeriesMarkers(candles, markers);
    // Stretch factors are relative: 380 px of price, 100 px per oscillator.
    price.panes().forEach((pane, k) => pane.setStretchFactor(k === 0 ? 3.8 : 1));
    price.timeScale().fitContent();

    const probs = chart("chart-probabilities", 160);
    classes.forEach((name, k) => {
      const series = probs.addSeries(LC.LineSeries, {
        color: colours[name], lineWidth: 1, title: "P(" + name + ")",
        priceLineVisible: false, lastValueVisible: false,
      });
      series.setData(data.signals.map((s) => ({ time: s.time, value: s.probabilities[k] })));
    });
    probs.timeScale().fitContent();
    price.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range) probs.timeScale().setVisibleRange(price.timeScale().getVisibleRange());
    });
  }

  function drawEquity() {
    const equity = chart("chart-equity", 300);
    const strategy = equity.addSeries(LC.LineSeries, { color: "#2962ff", lineWidth: 2, title: "strategy" });
    strategy.setData(data.equity.map((p) => ({ time: p.time, value: p.equity })));
    const hold = equity.addSeries(LC.LineSeries, { color: "#9e9e9e", lineWidth: 1, title: "buy & hold" });
    hold.setData(data.equity.map((p) => ({ time: p.time, value: p.benchmark })));
    equity.timeScale().fitContent();
    const drawdown = chart("chart-drawdown", 160);
    const dd = drawdown.addSeries(LC.AreaSeries, {
      lineColor: "#ef5350", topColor: "rgba(239,83,80,0.05)", bottomColor: "rgba(239,83,80,0.4)",
      lineWidth: 1, title: "drawdown %", invertFilledArea: true,
    });
    dd.setData(data.equity.map((p) => ({ time: p.time, value: -Math.abs(p.drawdown_pct) })));
    drawdown.timeScale().fitContent();
  }

  function drawHeatmap() {
    const m = data.memberships;
    const canvas = document.getElementById("heatmap");
    if (!m || m.features.length === 0) {
      canvas.replaceWith(document.createTextNode("No membership data."));
      return;
    }
    const label = 220, rowHeight = 14, width = Math.max(600, Math.min(1500, m.times.length));
    canvas.width = label + width;
    canvas.height = rowHeight * m.features.length + 20;
    const ctx = canvas.getContext("2d");
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#333";
    const cell = width / m.times.length;
    m.features.forEach((name, r) => {
      ctx.fillStyle = "#333";
      ctx.fillText(name, 2, r * rowHeight + 11);
      const row = m.values[r];
      for (let c = 0; c < row.length; c++) {
        const v = row[c];
        ctx.fillStyle = v === null ? "#fafafa" : "rgba(41, 98, 255, " + Math.max(0, Math.min(1, v)) + ")";
        ctx.fillRect(label + c * cell, r * rowHeight, Math.ceil(cell), rowHeight - 1);
      }
    });
    ctx.fillStyle = "#333";
    ctx.fillText(formatTime(m.times[0]), label, canvas.height - 4);
    const last = formatTime(m.times[m.times.length - 1]);
    ctx.fillText(last, canvas.width - ctx.measureText(last).width - 2, canvas.height - 4);
  }

  try {
    drawPrice();
    drawEquity();
    drawHeatmap();
  } catch (err) {
    window.__reportErrors.push(String(err && err.stack ? err.stack : err));
  }
  document.body.dataset.errors = JSON.stringify(window.__reportErrors);
  document.body.dataset.rendered = window.__reportErrors.length ? "failed" : "ok";
})();
