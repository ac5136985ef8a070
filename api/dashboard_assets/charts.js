// Small SVG charts for the dashboard: horizontal bars with interval whiskers, and stacked columns.
// No dependencies: the page must work offline.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#3b6fd8", "#e0793a", "#2f9e6e", "#8a5cc9", "#c9455a", "#1f9bb0", "#b38a1d", "#6b7385"];

export function colourOf(key, keys) {
  const index = keys.indexOf(key);
  return PALETTE[(index < 0 ? keys.length : index) % PALETTE.length];
}

function node(name, attributes = {}, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

function svg(width, height) {
  return node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
}

export function empty(container, message) {
  container.replaceChildren();
  const p = document.createElement("p");
  p.className = "empty";
  p.textContent = message;
  container.append(p);
}

export function legend(container, keys) {
  const box = document.createElement("div");
  box.className = "legend";
  for (const key of keys) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = colourOf(key, keys);
    item.append(swatch, key);
    box.append(item);
  }
  container.append(box);
}

// rows: [{label, value, low, high, colour, note}]; value/low/high may be null.
export function intervalBars(container, rows, { format = (v) => v.toFixed(2), width = 560 } = {}) {
  container.replaceChildren();
  const known = rows.filter((r) => r.value !== null && r.value !== undefined);
  if (!known.length) return empty(container, "No outcomes yet.");
  const longest = Math.max(...rows.map((r) => String(r.label).length));
  const row = 26, left = Math.min(280, Math.max(90, longest * 6.6 + 16)), right = 90, top = 8, bottom = 22;
  const height = top + bottom + rows.length * row;
  const values = known.flatMap((r) => [r.value, r.low ?? r.value, r.high ?? r.value]);
  const min = Math.min(0, ...values), max = Math.max(0, ...values);
  const span = max - min || 1;
  const x = (v) => left + ((v - min) / span) * (width - left - right);
  const chart = svg(width, height);
  chart.append(node("line", { class: "zero", x1: x(0), x2: x(0), y1: top, y2: height - bottom }));
  rows.forEach((r, i) => {
    const y = top + i * row;
    chart.append(node("text", { x: left - 8, y: y + row / 2 + 4, "text-anchor": "end" }, r.label));
    if (r.value === null || r.value === undefined) {
      chart.append(node("text", { x: x(0) + 4, y: y + row / 2 + 4, class: "empty" }, "no outcomes"));
      return;
    }
    const from = Math.min(x(0), x(r.value)), to = Math.max(x(0), x(r.value));
    chart.append(node("rect", { class: "bar", x: from, y: y + 5, width: Math.max(1, to - from), height: row - 10,
      fill: r.colour, rx: 2, "data-value": r.value }));
    if (r.low !== null && r.low !== undefined && r.high !== null && r.high !== undefined) {
      const mid = y + row / 2;
      chart.append(node("path", { class: "whisker",
        d: `M${x(r.low)},${mid}H${x(r.high)}M${x(r.low)},${mid - 5}V${mid + 5}M${x(r.high)},${mid - 5}V${mid + 5}` }));
    }
    chart.append(node("text", { x: width - right + 8, y: y + row / 2 + 4 }, r.note ?? format(r.value)));
  });
  const axisY = height - bottom + 14;
  for (const tick of [min, (min + max) / 2, max]) {
    chart.append(node("text", { x: x(tick), y: axisY, "text-anchor": "middle" }, format(tick)));
  }
  container.append(chart);
}

// periods: ["2026-10-05", ...]; series: {key: [value per period]}; stacked upwards.
export function stackedColumns(container, periods, series, { format = (v) => String(v), width = 1100, height = 220 } = {}) {
  container.replaceChildren();
  const keys = Object.keys(series);
  if (!periods.length || !keys.length) return empty(container, "No data in range.");
  const left = 46, right = 10, top = 10, bottom = 34;
  const totals = periods.map((_, i) => keys.reduce((sum, k) => sum + (series[k][i] || 0), 0));
  const max = Math.max(...totals) || 1;
  const band = (width - left - right) / periods.length;
  const y = (v) => height - bottom - (v / max) * (height - top - bottom);
  const chart = svg(width, height);
  chart.append(node("line", { class: "axis", x1: left, x2: width - right, y1: y(0), y2: y(0) }));
  const ticks = [...new Map([0, max / 2, max].map((t) => [format(t), t])).entries()];
  for (const [label, tick] of ticks) {
    chart.append(node("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, label));
  }
  const labelEvery = Math.ceil(periods.length / 12);
  periods.forEach((period, i) => {
    let base = 0;
    for (const key of keys) {
      const value = series[key][i] || 0;
      if (value > 0) {
        chart.append(node("rect", { class: "bar", x: left + i * band + band * 0.12, width: band * 0.76,
          y: y(base + value), height: Math.max(0.5, y(base) - y(base + value)), fill: colourOf(key, keys),
          "data-value": value }, undefined));
        chart.lastChild.append(node("title", {}, `${key} ${period}: ${format(value)}`));
      }
      base += value;
    }
    if (i % labelEvery === 0) {
      chart.append(node("text", { x: left + i * band + band / 2, y: height - bottom + 16, "text-anchor": "middle" }, period.slice(5)));
    }
  });
  container.append(chart);
  legend(container, keys);
}
