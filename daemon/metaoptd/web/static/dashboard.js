// The metaopt dashboard: reads the node's JSON API (/api/openapi.json), polls its digest and
// redraws what changed. No library, no build step: the daemon serves this file as it is.
// Everything the page shows from the store goes in as text (textContent), never as markup.
"use strict";

const POLL_MS = 1500;
const SVG = "http://www.w3.org/2000/svg";
const PARALLEL_LINES = 1000;  // more lines than this draw as a blur, slowly
const COLORS = ["#2463eb", "#d92d20", "#17803d", "#b54708", "#7a5af8", "#0e9384", "#c11574",
  "#475467", "#e04f16", "#3b7c0f"];

const state = {
  token: "", writable: false, digest: null, chosen: null, experiments: [],
  sort: "created", status: "", offset: 0, limit: 50, importanceFor: null,
  opened: new Set(),  // trials whose stderr tail is shown
};

// ---- talking to the node ---------------------------------------------------------------------

function takeToken() {
  // A link from `metaopt dashboard --url` carries ?token=: keep it for this tab, out of the URL.
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem("metaopt-token", given);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  state.token = sessionStorage.getItem("metaopt-token") || "";
}

async function api(path, body) {
  const init = { headers: {} };
  if (state.token) init.headers.Authorization = "Bearer " + state.token;
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const reply = await fetch(path, init);
  const data = await reply.json().catch(() => ({ error: reply.statusText }));
  if (!reply.ok) {
    const error = new Error(data.error || reply.statusText);
    error.status = reply.status;
    throw error;
  }
  return data;
}

let heldUntil = 0;  // an action's error stays a while; a poll that answers clears the rest

function notice(text, hold) {
  if (!text && Date.now() < heldUntil) return;
  if (hold) heldUntil = Date.now() + 10000;
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

// ---- small DOM helpers -----------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return value.toExponential(2).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(4)));
}

function ago(seconds) {
  if (!seconds) return "–";
  const s = Date.now() / 1000 - seconds;
  if (s < 90) return Math.round(s) + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

function status(label) {
  return el("span", { class: "status " + label }, label);
}

// ---- plots: hand-drawn SVG -------------------------------------------------------------------

function scale(values, lo, hi, log, integer) {
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (log) { min = Math.log10(min); max = Math.log10(max); }
  if (!(max > min)) { min -= 0.5; max += 0.5; }
  const f = (v) => lo + ((log ? Math.log10(v) : v) - min) / (max - min) * (hi - lo);
  f.ticks = () => {
    if (log) {  // decades, or 1-2-5 steps within them when the range is short
      const within = (v) => v >= 10 ** min * (1 - 1e-9) && v <= 10 ** max * (1 + 1e-9);
      const decades = [];
      const steps = [];
      for (let e = Math.floor(min); e <= Math.ceil(max); e++) {
        for (const m of [1, 2, 5]) {
          const v = Number((m * 10 ** e).toPrecision(3));
          if (within(v)) (m === 1 ? decades : steps).push(v);
        }
      }
      return decades.length >= 3 ? decades : [...decades, ...steps].sort((a, b) => a - b);
    }
    const step = Math.max(10 ** Math.floor(Math.log10((max - min) / 4)), integer ? 1 : 0);
    const k = [1, 2, 5, 10].find((m) => (max - min) / (m * step) <= 6);
    const out = [];
    for (let t = Math.ceil(min / (k * step)) * k * step; t <= max + 1e-12; t += k * step) {
      out.push(Math.abs(t) < 1e-12 ? 0 : Number(t.toPrecision(12)));
    }
    return out;
  };
  return f;
}

function frame(width, height) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
}

function axes(root, x, y, box, xLabel, yLabel) {
  const [left, top, right, bottom] = box;
  root.append(svg("line", { x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#98a2b3" }));
  root.append(svg("line", { x1: left, y1: top, x2: left, y2: bottom, stroke: "#98a2b3" }));
  for (const t of x ? x.ticks() : []) {
    root.append(svg("text", { x: x(t), y: bottom + 13, "text-anchor": "middle" }, fmt(t)));
  }
  for (const t of y.ticks()) {
    root.append(svg("line", { x1: left, y1: y(t), x2: right, y2: y(t), stroke: "#eef0f4" }));
    root.append(svg("text", { x: left - 4, y: y(t) + 3, "text-anchor": "end" }, fmt(t)));
  }
  if (xLabel) {
    root.append(svg("text", { x: (left + right) / 2, y: bottom + 27, "text-anchor": "middle" },
      xLabel));
  }
  if (yLabel) {
    root.append(svg("text", { x: 10, y: top - 6 }, yLabel));
  }
}

function dots(root, points, color, radius) {
  // One path of zero-length round-capped strokes: 10k points draw as one element, not 10k.
  const d = points.map(([x, y]) => `M${x.toFixed(1)},${y.toFixed(1)}h0`).join("");
  root.append(svg("path", { d, stroke: color, "stroke-width": 2 * radius, "stroke-linecap": "round",
    "stroke-opacity": 0.55, class: "points", "data-count": points.length }));
}

function empty(target, text) {
  target.replaceChildren(el("div", { class: "empty" }, text));
}

function plotHistory(target, data) {
  const values = data.samples.objective;
  if (!values.length) return empty(target, "No completed trial yet.");
  const root = frame(460, 260);
  const box = [56, 18, 450, 222];
  const x = scale([1, values.length], box[0], box[2], false, true);
  const y = scale(values, box[3], box[1], false);
  axes(root, x, y, box, "trials completed", data.objective);
  dots(root, values.map((v, i) => [x(i + 1), y(v)]), "#2463eb", 2.6);
  const line = data.history.best.map((b, i) => `${i ? "L" : "M"}${x(i + 1).toFixed(1)},${y(b).toFixed(1)}`);
  root.append(svg("path", { d: line.join(""), fill: "none", stroke: "#d92d20", "stroke-width": 1.6,
    class: "best" }));
  target.replaceChildren(root);
}

function plotCurves(target, data) {
  const curves = data.curves.filter((c) => c.steps.length);
  if (!curves.length) return empty(target, "No trial reported a step yet.");
  const root = frame(460, 260);
  const box = [56, 18, 450, 222];
  const x = scale(curves.flatMap((c) => c.steps), box[0], box[2], false, true);
  const y = scale(curves.flatMap((c) => c.values), box[3], box[1], false);
  axes(root, x, y, box, "step", data.objective);
  curves.forEach((c, i) => {
    const d = c.steps.map((s, j) => `${j ? "L" : "M"}${x(s).toFixed(1)},${y(c.values[j]).toFixed(1)}`);
    const frozen = c.status === "frozen";
    const path = svg("path", { d: d.join(""), fill: "none", stroke: COLORS[i % COLORS.length],
      "stroke-width": 1.4, "stroke-dasharray": frozen ? "4 3" : "none", "data-trial": c.id });
    path.append(svg("title", {}, `${c.id} (${c.status})`));
    root.append(path);
  });
  target.replaceChildren(root);
}

function plotImportance(target, answer) {
  if (!answer) return empty(target, "…");
  if (!answer.importance) return empty(target, answer.why);
  const rows = Object.entries(answer.importance);
  const root = frame(460, 24 + rows.length * 22);
  const x = scale([0, 1], 130, 440, false);
  rows.forEach(([name, share], i) => {
    const top = 10 + i * 22;
    root.append(svg("text", { x: 124, y: top + 12, "text-anchor": "end" }, name));
    root.append(svg("rect", { x: x(0), y: top, width: Math.max(1, x(share) - x(0)), height: 15,
      fill: "#2463eb", "fill-opacity": 0.8 }));
    root.append(svg("text", { x: x(share) + 4, y: top + 12 }, (share * 100).toFixed(0) + " %"));
  });
  target.replaceChildren(root);
}

function valueColor(values, maximize) {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return (v) => {
    let t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    if (maximize) t = 1 - t;  // the best trials are drawn darkest
    const light = Math.round(25 + 55 * t);
    return `hsl(221, 80%, ${light}%)`;
  };
}

function axisOf(param, lo, hi) {
  if (param.labels.length) {
    const f = scale([0, param.labels.length - 1], lo, hi, false);
    const g = (v) => f(v);
    g.ticks = () => param.labels.map((_, i) => i);
    g.label = (v) => param.labels[v];
    return g;
  }
  const f = scale(param.values, lo, hi, param.log);
  f.label = fmt;
  return f;
}

function plotParallel(target, data) {
  const s = data.samples;
  if (!s.objective.length) return empty(target, "No completed trial yet.");
  const columns = [...s.params, { name: data.objective, values: s.objective, labels: [], log: false }];
  const width = Math.max(460, 130 * columns.length, target.clientWidth - 12);
  const root = frame(width, 280);
  const top = 24;
  const bottom = 250;
  const xs = columns.map((_, i) => 50 + i * (width - 100) / Math.max(1, columns.length - 1));
  const ys = columns.map((c) => axisOf(c, bottom, top));
  const color = valueColor(s.objective, data.maximize);
  const order = s.objective.map((_, i) => i);
  order.sort((a, b) => (data.maximize ? -1 : 1) * (s.objective[a] - s.objective[b]));
  const drawn = order.slice(0, PARALLEL_LINES).reverse();  // worst first: the best on top
  const caption = target.parentElement.querySelector("figcaption");
  caption.textContent = "Parallel coordinates" +
    (order.length > drawn.length ? ` (the best ${drawn.length} of ${order.length} trials)` : "");
  for (const i of drawn) {
    const d = columns.map((c, k) => `${k ? "L" : "M"}${xs[k].toFixed(1)},${ys[k](c.values[i]).toFixed(1)}`);
    root.append(svg("path", { d: d.join(""), fill: "none", stroke: color(s.objective[i]),
      "stroke-opacity": 0.6, "data-trial": s.trial_ids[i] }));
  }
  columns.forEach((c, k) => {
    root.append(svg("line", { x1: xs[k], y1: top, x2: xs[k], y2: bottom, stroke: "#667085" }));
    root.append(svg("text", { x: xs[k], y: 14, "text-anchor": "middle" }, c.name));
    for (const t of ys[k].ticks()) {
      root.append(svg("text", { x: xs[k] + 4, y: ys[k](t) + 3 }, ys[k].label(t)));
    }
  });
  target.replaceChildren(root);
}

function plotSlice(target, data) {
  const s = data.samples;
  if (!s.objective.length) return empty(target, "No completed trial yet.");
  const each = 300;
  const root = frame(each * s.params.length, 230);
  s.params.forEach((param, k) => {
    const left = k * each;
    const box = [left + 52, 16, left + each - 10, 190];
    const x = axisOf(param, box[0], box[2]);
    const y = scale(s.objective, box[3], box[1], false);
    axes(root, null, y, box, param.name, k ? "" : data.objective);
    for (const t of x.ticks()) {
      root.append(svg("text", { x: x(t), y: box[3] + 13, "text-anchor": "middle" }, x.label(t)));
    }
    dots(root, param.values.map((v, i) => [x(v), y(s.objective[i])]), "#2463eb", 2.4);
  });
  target.replaceChildren(root);
}

function plotFailures(target, data) {
  if (!data.failures.length) return empty(target, "No trial failed.");
  target.replaceChildren(...data.failures.map((g) => el("div", { class: "failure" },
    el("strong", {}, `${g.count} × `), el("code", {}, g.signature),
    el("div", { class: "quiet" }, g.trial_ids.slice(0, 6).join(", ") + (g.count > 6 ? ", …" : "")),
    el("pre", {}, g.example))));
}

function plotLeaderboard(target, board) {
  if (!board.top.length) return empty(target, "No completed trial yet.");
  const params = [...new Set(board.top.flatMap((e) => Object.keys(e.params)))];
  const table = el("table", {},
    el("thead", {}, el("tr", {}, ...["#", "experiment", "trial", "value", ...params].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...board.top.map((e, i) => el("tr", {},
      el("td", {}, i + 1), el("td", {}, e.experiment), el("td", {}, e.id), el("td", {}, fmt(e.value)),
      ...params.map((p) => el("td", {}, fmt(e.params[p])))))));
  const parts = [table];
  if (board.trend.length > 1) {  // is the search getting better, experiment after experiment?
    const root = frame(460, 180);
    const box = [56, 14, 450, 150];
    const x = scale([1, board.trend.length], box[0], box[2], false, true);
    const y = scale(board.trend.map((t) => t.best), box[3], box[1], false);
    axes(root, x, y, box, "experiments, oldest first", "best");
    const d = board.trend.map((t, i) => `${i ? "L" : "M"}${x(i + 1).toFixed(1)},${y(t.best).toFixed(1)}`);
    root.append(svg("path", { d: d.join(""), fill: "none", stroke: "#2463eb", "stroke-width": 1.6 }));
    dots(root, board.trend.map((t, i) => [x(i + 1), y(t.best)]), "#2463eb", 3);
    parts.push(root);
  }
  target.replaceChildren(...parts);
}

// ---- the views ----------------------------------------------------------------------------

function drawExperiments() {
  const body = document.querySelector("#experiments tbody");
  body.replaceChildren(...state.experiments.map((e) => {
    const total = Object.values(e.counts).reduce((a, b) => a + b, 0);
    const row = el("tr", { "data-name": e.name, onclick: () => choose(e.name) },
      el("td", {}, e.name), el("td", {}, status(e.status)), el("td", {}, total),
      el("td", {}, fmt(e.best_value)));
    if (e.name === state.chosen) row.classList.add("chosen");
    return row;
  }));
  document.getElementById("no-experiments").hidden = state.experiments.length > 0;
}

function drawMembers(members) {
  const box = document.getElementById("members");
  if (!members.length) {
    box.replaceChildren(el("p", { class: "quiet" }, state.writable ? "…" : "No daemon runs: no cluster to show."));
    return;
  }
  box.replaceChildren(...members.map((m) => {
    const card = m.card || {};
    const gpus = (card.gpus || []).map(([model, n]) => `${n}× ${model}`).join(", ");
    const slots = card.slots !== undefined ? `${card.slots - card.free}/${card.slots} slots busy` : "no card yet";
    const trials = m.trials.map((t) => `${t.experiment}/${t.id}${t.gpu !== null ? " gpu " + t.gpu : ""}`);
    return el("div", { class: "member", "data-node": m.node },
      el("div", {}, el("strong", {}, m.node), m.self ? " (this node) " : " ", status(m.state)),
      el("div", { class: "quiet" }, [slots, gpus, m.address].filter(Boolean).join(" · ")),
      el("div", { class: "trials" }, trials.length ? "running " + trials.join(", ") : "idle"));
  }));
}

function drawExperiment(exp) {
  document.getElementById("experiment").hidden = false;
  document.getElementById("exp-name").textContent = exp.name;
  const badge = document.getElementById("exp-status");
  badge.textContent = exp.status;
  badge.className = "status " + exp.status;
  const counts = Object.entries(exp.counts).map(([k, v]) => `${v} ${k}`).join(", ") || "no trial yet";
  const best = exp.best_value !== null ? ` · best ${exp.objective} ${fmt(exp.best_value)} (${exp.best_trial})` : "";
  document.getElementById("exp-summary").textContent =
    `${exp.algo} · ${counts} of ${exp.max_trials}${best}${exp.message ? " · " + exp.message : ""}`;
  document.getElementById("exp-command").textContent = `cd ${exp.cwd}\n${exp.command.join(" ")}`;
  document.getElementById("stop").disabled = !state.writable || exp.status !== "running";
  document.getElementById("resume").disabled = !state.writable || exp.status === "running";
}

const SORTABLE = { created: "created", objective: "objective", steps: "steps" };

function drawTrials(page, space) {
  const params = Object.keys(space);
  const heads = ["id", "status", "objective", "steps", "node", "gpu", ...params, "created", "stderr"];
  const head = el("tr", {}, ...heads.map((h) => {
    const key = SORTABLE[h];
    const th = el("th", {}, h === "objective" && page.objective ? page.objective : h);
    if (key) {
      th.classList.add("sortable");
      th.dataset.sort = key;
      if (state.sort.replace("-", "") === key) {
        th.classList.add("sorted");
        if (state.sort.startsWith("-")) th.classList.add("reverse");
      }
      th.addEventListener("click", () => {
        state.sort = state.sort === key ? "-" + key : key;
        state.offset = 0;
        refreshTrials();
      });
    }
    return th;
  }));
  document.querySelector("#trials thead").replaceChildren(head);
  document.querySelector("#trials tbody").replaceChildren(...page.trials.map((t) => {
    const tail = t.stderr_tail.trim();
    const last = tail.split("\n").pop();
    let stderr = "";
    if (tail) {  // open stays open across redraws
      stderr = el("details", {}, el("summary", {}, last.slice(0, 80)), el("pre", {}, tail));
      stderr.open = state.opened.has(t.id);
      stderr.addEventListener("toggle", () => {
        if (stderr.open) state.opened.add(t.id);
        else state.opened.delete(t.id);
      });
    }
    return el("tr", { "data-trial": t.id, "data-status": t.status },
      el("td", {}, t.id), el("td", {}, status(t.status)), el("td", {}, fmt(t.objective)),
      el("td", {}, t.steps), el("td", {}, t.node), el("td", {}, t.gpu ?? "–"),
      ...params.map((p) => el("td", {}, fmt(t.params[p]))),
      el("td", {}, ago(t.created)), el("td", { class: "stderr" }, stderr));
  }));
  const last = Math.min(page.total, page.offset + page.trials.length);
  document.getElementById("range").textContent =
    page.total ? `${page.offset + 1}–${last} of ${page.total}` : "none";
  document.getElementById("prev").disabled = page.offset === 0;
  document.getElementById("next").disabled = last >= page.total;
}

// ---- refreshing ---------------------------------------------------------------------------

let current = null;  // the chosen experiment as last read
let drawing = 0;  // the latest refresh of the chosen experiment

let asked = 0;  // the latest request for a page of trials: an older answer is not drawn

async function refreshTrials() {
  if (!state.chosen || !current) return;
  const q = new URLSearchParams({ offset: state.offset, limit: state.limit, sort: state.sort });
  if (state.status) q.set("status", state.status);
  const ticket = ++asked;
  const page = await api(`/api/experiments/${encodeURIComponent(state.chosen)}/trials?${q}`);
  if (ticket === asked) drawTrials(page, current.space);
}

async function refreshChosen() {
  const name = state.chosen;
  if (!name) return;
  const ticket = ++drawing;
  const path = `/api/experiments/${encodeURIComponent(name)}`;
  let exp = state.experiments.find((e) => e.name === name);
  if (!exp) exp = await api(path);  // scheduled after the list was read
  const data = await api(path + "/series");
  const board = await api(path + "/leaderboard?top=10");
  if (ticket !== drawing) return;  // a newer refresh, or another experiment, came meanwhile
  current = exp;
  drawExperiment(exp);
  await refreshTrials();
  plotHistory(document.querySelector("#plot-history .plot"), data);
  plotCurves(document.querySelector("#plot-curves .plot"), data);
  plotParallel(document.querySelector("#plot-parallel .plot"), data);
  plotSlice(document.querySelector("#plot-slice .plot"), data);
  plotFailures(document.querySelector("#plot-failures .plot"), data);
  plotLeaderboard(document.querySelector("#plot-leaderboard .plot"), board);
  const ended = data.samples.objective.length;
  if (state.importanceFor !== `${name}:${ended}`) {  // a forest fit: only when trials ended
    state.importanceFor = `${name}:${ended}`;
    api(path + "/importance").then((answer) => {
      if (name === state.chosen) plotImportance(document.querySelector("#plot-importance .plot"), answer);
    }, (error) => notice(error.message));
  }
}

async function refresh() {
  state.experiments = await api("/api/experiments");
  if (!state.chosen && state.experiments.length) {
    state.chosen = state.experiments[state.experiments.length - 1].name;
  }
  drawExperiments();
  drawMembers(await api("/api/members"));
  await refreshChosen();
}

function choose(name) {
  state.chosen = name;
  state.offset = 0;
  state.importanceFor = null;
  history.replaceState(null, "", "#" + encodeURIComponent(name));
  document.querySelector("#plot-importance .plot").replaceChildren();
  drawExperiments();
  refreshChosen().catch((error) => notice(error.message));
}

async function poll() {
  const live = document.getElementById("live");
  try {
    const now = await api("/api/state");
    state.writable = now.writable;
    document.getElementById("source").textContent = now.source;
    document.getElementById("schedule-section").hidden = !now.writable;
    if (now.digest !== state.digest) {
      await refresh();
      if (state.digest === null && !performance.getEntriesByName("metaopt-drawn").length) {
        performance.mark("metaopt-drawn");  // the first full draw: bench/dashboard.py times it
      }
      state.digest = now.digest;
    } else if (state.writable) {
      drawMembers(await api("/api/members"));
    }
    live.textContent = "live · " + new Date().toLocaleTimeString();
    live.classList.remove("stale");
    notice("");
  } catch (error) {
    live.textContent = "not answering";
    live.classList.add("stale");
    notice(error.status === 401
      ? error.message + " — open the link `metaopt dashboard --url` prints."
      : error.message);
  }
  setTimeout(poll, POLL_MS);
}

// ---- actions ------------------------------------------------------------------------------

async function act(verb) {
  try {
    await api(`/api/experiments/${encodeURIComponent(state.chosen)}/${verb}`, {});
    state.digest = null;  // redraw now, not at the next change
  } catch (error) {
    notice(`${verb}: ${error.message}`, true);
  }
}

async function schedule(event) {
  event.preventDefault();
  const form = event.target;
  const out = document.getElementById("schedule-result");
  const line = `${form.options.value} ${form.command.value}`.trim();
  out.className = "";
  out.textContent = "checking…";
  try {
    const made = await api("/api/experiments", { line, cwd: form.cwd.value.trim() });
    out.className = "ok";
    out.textContent = `${made.name}: ${made.state}`;
    localStorage.setItem("metaopt-cwd", form.cwd.value.trim());
    state.digest = null;
    choose(made.name);
  } catch (error) {
    out.className = "error";
    out.textContent = error.message;
  }
}

function start() {
  takeToken();
  if (window.location.hash.length > 1) state.chosen = decodeURIComponent(window.location.hash.slice(1));
  document.getElementById("stop").addEventListener("click", () => act("stop"));
  document.getElementById("resume").addEventListener("click", () => act("resume"));
  document.getElementById("schedule").addEventListener("submit", schedule);
  document.getElementById("schedule").cwd.value = localStorage.getItem("metaopt-cwd") || "";
  document.getElementById("status-filter").addEventListener("change", (event) => {
    state.status = event.target.value;
    state.offset = 0;
    refreshTrials().catch((error) => notice(error.message));
  });
  document.getElementById("page-size").addEventListener("change", (event) => {
    state.limit = Number(event.target.value);
    state.offset = 0;
    refreshTrials().catch((error) => notice(error.message));
  });
  document.getElementById("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit);
    refreshTrials().catch((error) => notice(error.message));
  });
  document.getElementById("next").addEventListener("click", () => {
    state.offset += state.limit;
    refreshTrials().catch((error) => notice(error.message));
  });
  poll();
}

document.addEventListener("DOMContentLoaded", start);
