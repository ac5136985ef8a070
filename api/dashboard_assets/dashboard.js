// The analysts' dashboard: reads the GraphQL API of the server that serves it and draws the charts.
import { colourOf, empty, intervalBars, legend, stackedColumns } from "/dashboard/assets/charts.js";

const percent = (v) => `${(v * 100).toFixed(1)}%`;
const signedPercent = (v) => `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)} pt`;
const status = document.getElementById("status");
const pointSelect = document.getElementById("point");
const intervalSelect = document.getElementById("interval");

// An API key (ANALYST or ADMIN) comes in the URL fragment, /dashboard#key=..., which browsers never
// send to a server or write to its logs; the page keeps it in this tab's sessionStorage.
function apiKey() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("key");
  if (fromHash) {
    sessionStorage.setItem("cicloKey", fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("cicloKey");
}

async function graphql(query, variables = {}) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  if (response.status === 401) {
    throw new Error("this server needs an API key with the ANALYST role: open /dashboard#key=<your key>");
  }
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

const chart = (name) => document.querySelector(`[data-chart="${name}"] .chart`);

const LEADERBOARD = `query($point: String!) {
  leverPerformance(decisionPoint: $point) {
    leverKey isControl outcomes acceptRate acceptRateLow acceptRateHigh probabilityBest
    upliftVsControl { acceptRate acceptRateLow acceptRateHigh }
  }
}`;
const TIMELINE = `query($point: String!, $interval: ReportInterval!) {
  leverTimeline(decisionPoint: $point, interval: $interval) { periodStart leverKey allocationShare }
}`;
const CAMPAIGNS = `query($point: String!) {
  leverPerformanceBy(decisionPoint: $point, dimension: CAMPAIGN) {
    group levers { leverKey outcomes acceptRate acceptRateLow acceptRateHigh }
  }
}`;
const OVERVIEW = `{ funnel { stage entered conversionToNext } alertsRaised(interval: WEEK) { periodStart type raised } }`;

function drawLeaderboard(rows, levers) {
  intervalBars(chart("accept-rate"), rows.map((r) => ({
    label: r.leverKey + (r.isControl ? " (control)" : ""), value: r.acceptRate, low: r.acceptRateLow,
    high: r.acceptRateHigh, colour: colourOf(r.leverKey, levers),
    note: r.probabilityBest === null ? "–" : `P(best) ${percent(r.probabilityBest)}`,
  })), { format: percent });
  const treated = rows.filter((r) => !r.isControl);
  if (!rows.some((r) => r.isControl && r.outcomes > 0)) {
    empty(chart("uplift"), "No NO_ACTION control outcomes at this decision point.");
    return;
  }
  intervalBars(chart("uplift"), treated.map((r) => ({
    label: r.leverKey, value: r.upliftVsControl ? r.upliftVsControl.acceptRate : null,
    low: r.upliftVsControl?.acceptRateLow ?? null, high: r.upliftVsControl?.acceptRateHigh ?? null,
    colour: colourOf(r.leverKey, levers),
  })), { format: signedPercent });
}

function drawTimeline(points, levers) {
  const periods = [...new Set(points.map((p) => p.periodStart))].sort();
  const series = Object.fromEntries(levers.map((k) => [k, periods.map(() => 0)]));
  for (const p of points) {
    if (series[p.leverKey]) series[p.leverKey][periods.indexOf(p.periodStart)] = p.allocationShare ?? 0;
  }
  stackedColumns(chart("allocation"), periods, series, { format: percent });
}

function drawCampaigns(groups, levers) {
  const rows = [];
  const ordered = [...groups].sort((a, b) => (a.group === "NONE") - (b.group === "NONE") || a.group.localeCompare(b.group));
  for (const group of ordered) {
    for (const r of group.levers) {
      rows.push({ label: `${group.group === "NONE" ? "no campaign" : "campaign " + group.group} · ${r.leverKey}`,
        value: r.acceptRate, low: r.acceptRateLow, high: r.acceptRateHigh, colour: colourOf(r.leverKey, levers) });
    }
  }
  intervalBars(chart("campaigns"), rows, { format: percent, width: 1100 });
  legend(chart("campaigns"), levers);
}

function drawOverview(data) {
  const steps = data.funnel.filter((s) => s.entered > 0 || s.stage !== "CHURNED");
  const stages = steps.map((s) => s.stage);
  intervalBars(chart("funnel"), steps.map((s) => ({
    label: s.stage, value: s.entered, low: null, high: null, colour: colourOf(s.stage, stages),
    note: s.conversionToNext === null ? "" : `→ ${percent(s.conversionToNext)}`,
  })), { format: (v) => Math.round(v).toLocaleString() });
  const periods = [...new Set(data.alertsRaised.map((a) => a.periodStart))].sort();
  const types = [...new Set(data.alertsRaised.map((a) => a.type))].sort();
  const series = Object.fromEntries(types.map((t) => [t, periods.map(() => 0)]));
  for (const a of data.alertsRaised) series[a.type][periods.indexOf(a.periodStart)] = a.raised;
  stackedColumns(chart("alerts"), periods, series, { format: (v) => Math.round(v).toString(), width: 560 });
}

async function drawPoint() {
  const point = pointSelect.value;
  if (!point) return;
  status.textContent = `loading ${point}…`;
  const variables = { point, interval: intervalSelect.value };
  const [board, timeline, campaigns] = await Promise.all([
    graphql(LEADERBOARD, variables), graphql(TIMELINE, variables), graphql(CAMPAIGNS, variables),
  ]);
  const levers = board.leverPerformance.map((r) => r.leverKey);
  drawLeaderboard(board.leverPerformance, levers);
  drawTimeline(timeline.leverTimeline, levers);
  drawCampaigns(campaigns.leverPerformanceBy, levers);
  status.textContent = `${point}: ${board.leverPerformance.reduce((n, r) => n + r.outcomes, 0).toLocaleString()} outcomes`;
  document.body.dataset.ready = "true";
}

async function start() {
  const [{ decisionPoints }, overview] = await Promise.all([graphql("{ decisionPoints { key } }"), graphql(OVERVIEW)]);
  drawOverview(overview);
  const wanted = new URLSearchParams(location.search).get("decisionPoint");
  for (const { key } of decisionPoints) pointSelect.append(new Option(key, key, false, key === wanted));
  if (!decisionPoints.length) {
    for (const name of ["accept-rate", "uplift", "allocation", "campaigns"]) empty(chart(name), "No decision point configured.");
    status.textContent = "no decision points";
    document.body.dataset.ready = "true";
    return;
  }
  pointSelect.addEventListener("change", () => drawPoint().catch(fail));
  intervalSelect.addEventListener("change", () => drawPoint().catch(fail));
  await drawPoint();
}

function fail(error) {
  status.textContent = `error: ${error.message}`;
  status.className = "error";
  document.body.dataset.ready = "error";
  console.error(error);
}

start().catch(fail);
