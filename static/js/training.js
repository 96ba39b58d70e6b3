// Run page: keeps the loss curve, step, epoch, images/s, ETA, per-epoch metrics, samples and
// activation progress live. The server renders the persisted state; the run's websocket then
// sends a "history" message (everything so far) and live events. Steps already covered by the
// history are ignored, so a page opened mid-run never draws a point twice.
(() => {
  const page = document.getElementById("run-page");
  if (!page) return;
  const $ = (id) => document.getElementById(id);
  const LABELS = { queued: "Queued", running: "Running", finished: "Finished", failed: "Failed", cancelled: "Cancelled", interrupted: "Interrupted" };
  const ACTIVATION = { "": "", queued: "Waiting to activate", running: "Activating: indexing the gallery", done: "Activated", failed: "Activation failed" };
  const ENDED = new Set(["finished", "failed", "cancelled", "interrupted"]);
  const MAX_POINTS = 2000;
  const charts = window.PortalCharts;
  const chart = charts && charts.available() && $("loss-chart")
    ? charts.lineChart($("loss-chart"), { xLabel: "step", yLabel: "loss", xMax: () => (state.progress || {}).total_steps })
    : null;
  let state = JSON.parse($("run-state").textContent);
  let lastStep = 0;
  let drawPending = false;

  const adopt = (history) => {
    state = history;
    lastStep = state.curve.length ? state.curve[state.curve.length - 1].step : 0;
  };
  adopt(state);

  const handlers = {
    history: (m) => adopt(m),
    step: (m) => {
      const fresh = (m.points || []).filter((p) => p.step > lastStep);
      if (!fresh.length) return;
      state.curve.push(...fresh);
      lastStep = fresh[fresh.length - 1].step;
      // Keep the drawing bounded, as the server keeps the stored curve bounded.
      if (state.curve.length > MAX_POINTS) state.curve = state.curve.filter((_, i) => i % 2 === 0 || i === state.curve.length - 1);
      const { kind, run, points, ...progress } = m;
      state.progress = progress;
    },
    epoch: (m) => {
      if (!state.history.some((row) => row.epoch === m.epoch)) state.history.push(m.metrics);
      if (m.progress) state.progress = m.progress;
    },
    phase: (m) => { state.progress = m.progress; },
    status: (m) => {
      state.status = m.status;
      for (const key of ["error", "device", "final", "train_seconds"]) if (m[key] !== undefined && m[key] !== null) state[key] = m[key];
      if (m.progress) state.progress = m.progress;
      if (ENDED.has(m.status)) state.finished = new Date().toISOString();
      if (m.status === "running" && !state.started) state.started = new Date().toISOString();
    },
    queue: (m) => { state.queue_position = m.position; },
    cancelling: () => { state.cancel_requested = true; },
    samples: (m) => { state.samples = m.image; },
    reindex: (m) => { state.activation = { ...state.activation, state: "running", progress: { done: m.done, total: m.total } }; },
    activation: (m) => { state.activation = { ...state.activation, state: m.state, error: m.error || "" }; },
    error: (m) => { state.error = m.detail; },
  };

  const show = (id, visible) => { const el = $(id); if (el) el.hidden = !visible; };
  const text = (id, value) => { const el = $(id); if (el) el.textContent = value; };
  // Same form as the server renders (UTC): "2026-01-31 12:34:56".
  const when = (iso) => (iso ? new Date(iso).toISOString().slice(0, 19).replace("T", " ") : "—");
  const duration = (s) => (s == null ? "—" : s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`);

  function drawChart() {
    const curve = state.curve;
    const names = [...new Set(curve.flatMap((p) => Object.keys(p.losses)))].sort();
    if (chart && names.length) chart.update(curve.map((p) => p.step), names.map((n) => curve.map((p) => p.losses[n] ?? null)), names);
    drawLossTable(curve, names);
    show("chart-empty", !names.length);
  }

  // Each term's latest and lowest value: the table the page shows without JavaScript too.
  function drawLossTable(curve, names) {
    const body = $("loss-table").tBodies[0];
    const fixed = (v) => Number(v).toFixed(4);
    names.forEach((name, i) => {
      const points = curve.filter((p) => name in p.losses);
      let row = body.querySelector(`tr[data-loss="${CSS.escape(name)}"]`);
      if (!row) {
        row = body.insertRow();
        row.dataset.loss = name;
        row.innerHTML = '<th><span class="swatch"></span> </th><td class="loss-last"></td><td class="loss-step"></td><td class="loss-lowest"></td>';
        row.querySelector(".swatch").style.borderTopColor = charts ? charts.colour(i) : "";
        row.firstChild.append(name);
      }
      const last = points[points.length - 1];
      row.querySelector(".loss-last").textContent = fixed(last.losses[name]);
      row.querySelector(".loss-step").textContent = last.step;
      row.querySelector(".loss-lowest").textContent = fixed(Math.min(...points.map((p) => p.losses[name])));
    });
  }

  // The ETA in the words of retrieval/training/presenters.py eta_text; while evaluating it
  // counts down from the estimate made when the evaluation began.
  function etaText(p) {
    if (ENDED.has(state.status)) return "—";
    if (p.eta_s == null) return p.phase === "evaluating" || p.step ? "no estimate yet" : "—";
    if (p.phase === "evaluating") {
      const left = p.eta_s - (Date.now() / 1000 - (p.phase_since || Date.now() / 1000));
      return left <= 0 ? "any moment now" : duration(left);
    }
    return p.eta_covers_evaluation ? duration(p.eta_s) : `${duration(p.eta_s)} + evaluation`;
  }

  function phaseText(p) {
    if (p.phase === "finishing") return "Writing the checkpoint…";
    const estimate = p.eta_s == null ? "no estimate yet (the first evaluation of this run)"
      : `${etaText(p)} (the last evaluation took ${Math.round(p.eval_s)} s)`;
    return `Evaluating epoch ${p.epoch} on held-out images; time left: ${estimate}.`;
  }

  function drawEpochs() {
    const rows = state.history;
    const names = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== "epoch")))];
    const table = $("epoch-table");
    table.tHead.innerHTML = "";
    const head = table.tHead.insertRow();
    ["Epoch", ...names].forEach((n) => { const th = document.createElement("th"); th.textContent = n; head.appendChild(th); });
    table.tBodies[0].innerHTML = "";
    rows.forEach((r) => { const tr = table.tBodies[0].insertRow(); [r.epoch, ...names.map((n) => r[n] ?? "")].forEach((v) => { tr.insertCell().textContent = v; }); });
    show("epoch-empty", !rows.length);
    const final = $("final-metrics");
    const entries = Object.entries(state.final || {}).filter(([k]) => k !== "epoch");
    if (entries.length) {
      final.innerHTML = "";
      entries.forEach(([k, v]) => { const div = document.createElement("div"); div.innerHTML = "<dt></dt><dd></dd>"; div.firstChild.textContent = k; div.lastChild.textContent = v; final.appendChild(div); });
    }
    if (state.train_seconds) text("train-seconds", `Trained in ${state.train_seconds} s.`);
  }

  function drawStatus() {
    const badge = $("run-status");
    badge.textContent = LABELS[state.status] || state.status;
    badge.className = `badge status-${state.status}`;
    badge.dataset.status = state.status;
    const p = state.progress || {};
    text("stat-step", `${p.step || 0} / ${p.total_steps || "?"}`);
    text("stat-epoch", `${p.epoch || 0} / ${p.epochs || state.config.epochs || "?"}`);
    text("stat-rate", p.images_per_s == null ? "—" : Math.round(p.images_per_s));
    text("stat-eta", etaText(p));
    const pausing = !ENDED.has(state.status) && ["evaluating", "finishing"].includes(p.phase);
    text("stat-phase", !ENDED.has(state.status) && p.phase ? `· ${p.phase}` : "");
    show("run-phase", pausing);
    if (pausing) text("run-phase", phaseText(p));
    text("run-device", state.device || "—");
    text("run-started", when(state.started));
    text("run-finished", when(state.finished));
    text("queue-position", state.queue_position ?? "?");
    show("run-queue", state.status === "queued");
    show("run-cancelling", state.cancel_requested && !ENDED.has(state.status));
    text("run-error", state.error || "");
    show("run-error", Boolean(state.error));
    show("cancel-form", !ENDED.has(state.status));
    const act = state.activation || {};
    show("activation", Boolean(act.state));
    text("activation-state", ACTIVATION[act.state] || "");
    const bar = $("reindex-progress");
    if (bar && act.progress && act.progress.total) { bar.max = act.progress.total; bar.value = act.progress.done; text("reindex-text", `${act.progress.done} / ${act.progress.total} images indexed`); }
    text("activation-error", act.error || "");
    show("activation-error", Boolean(act.error));
    if (act.state === "done") show("run-active", true);
    const confirming = $("activate-confirm") && !$("activate-confirm").hidden;
    show("activate-form", !confirming && state.status === "finished" && !["queued", "running", "done"].includes(act.state) && $("run-active").hidden);
    const samples = $("samples");
    if (samples && state.samples) { samples.src = state.samples; samples.hidden = false; }
  }

  function draw() {
    drawPending = false;
    drawStatus();
    drawChart();
    drawEpochs();
  }
  const scheduleDraw = () => { if (!drawPending) { drawPending = true; requestAnimationFrame(draw); } };
  draw();
  // The evaluation countdown moves with no event arriving.
  setInterval(() => { if ((state.progress || {}).phase === "evaluating") drawStatus(); }, 1000);

  // A run that measures worse than the serving model: show the comparison and its confirm
  // button in place (the same box the server renders when the form posts without JavaScript).
  const activateForm = $("activate-form");
  if (activateForm && activateForm.dataset.worse && $("activate-confirm")) {
    activateForm.addEventListener("submit", (event) => {
      event.preventDefault();
      $("activate-confirm").hidden = false;
      activateForm.hidden = true;
      $("activate-confirm").querySelector("button").focus();
    });
    $("activate-keep").addEventListener("click", (event) => {
      event.preventDefault();
      $("activate-confirm").hidden = true;
      activateForm.hidden = false;
    });
  }

  // The socket: reconnects with a growing pause, except when the server says the run is gone.
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${page.dataset.ws}`);
    const indicator = $("live-indicator");
    socket.onopen = () => { delay = 1000; indicator.textContent = "live"; indicator.className = "dot live"; };
    socket.onmessage = (e) => {
      const message = JSON.parse(e.data);
      (handlers[message.kind] || (() => {}))(message);
      scheduleDraw();
    };
    socket.onclose = (e) => {
      indicator.className = "dot offline";
      if (e.code === 4404 || e.code === 4403) { indicator.textContent = "not available"; return; }
      indicator.textContent = "reconnecting…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
})();
