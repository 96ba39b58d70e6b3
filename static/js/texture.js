// The texture page over the search websocket: upload (choose, drop or paste) or pick a gallery
// texture, drag a square over it, choose the code length; every change re-ranks the gallery by
// Hamming distance. The box travels as numbers (the server cuts the patch). Without a socket
// the form posts; without JavaScript the picks are links and the box is typed.
(function () {
  "use strict";
  const page = document.getElementById("texture-page");
  if (!page) return;
  const form = document.getElementById("texture-form");
  const field = (name) => form.elements[name];
  const stage = document.getElementById("box-stage");
  const image = document.getElementById("stage-image");
  const outline = document.getElementById("box-outline");
  const indicator = document.getElementById("live-indicator");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const MIN_SIDE = 8;
  // The query: a gallery texture (example), an upload (its data URL until the server has
  // stored it, then its stored id q), or nothing yet.
  const query = { example: field("example").value || null, dataUrl: null, stored: null };
  let socket = null, queued = null, timer = null, pending = false;

  function setLive(on) {
    indicator.textContent = on ? "live results" : "offline: results load with the page";
    indicator.classList.toggle("live", on);
  }

  function connect() {
    if (!("WebSocket" in window)) return setLive(false);
    socket = new WebSocket(scheme + location.host + page.dataset.socket);
    socket.addEventListener("message", (event) => {
      if (/class="status done"|id="form-errors"[^>]*><p>/.test(event.data)) pending = false;
      swapIn(event.data);
    });
    socket.addEventListener("open", () => { setLive(true); if (queued) { socket.send(queued); queued = null; } });
    socket.addEventListener("close", () => {
      socket = null;
      setLive(false);
      // A query the socket dropped (e.g. a message over the server's limit): post the form instead.
      if (pending) { pending = false; form.requestSubmit(); }
    });
  }

  function swapIn(html) {
    Live.swapFragments(html);
    readState();
    drawCurve();
  }

  function readState() {
    const state = document.getElementById("query-state");
    if (!state || !state.dataset.link) return;
    history.replaceState(null, "", state.dataset.link);
    const stored = new URL(state.dataset.link, location.href).searchParams.get("q");
    if (stored && !query.example) { query.stored = stored; query.dataUrl = null; }
    if (!image.getAttribute("src") && state.dataset.queryImage) show(state.dataset.queryImage);
  }

  // The curve on fixed axes (both shares run 0 to 1), one point per Hamming radius in the
  // order recall grows; uPlot as static/js/charts.js uses it, the portal's first colour.
  function drawCurve() {
    const holder = document.getElementById("pr-chart");
    if (!holder || !holder.dataset.pr || holder.dataset.drawn || typeof window.uPlot !== "function") return;
    holder.dataset.drawn = "1";  // each results header draws its curve once
    const curve = JSON.parse(holder.dataset.pr);
    const width = () => Math.max(240, Math.min(560, holder.clientWidth || 240));
    const colour = window.PortalCharts ? PortalCharts.colour(0) : "#3e63dd";
    const plot = new uPlot({
      width: width(), height: 220,
      scales: { x: { time: false, range: () => [0, 1] }, y: { range: () => [0, 1.02] } },
      axes: [{ label: "recall", size: 40 }, { label: "precision", size: 50 }],
      series: [{ label: "recall" }, { label: `precision (${curve.bits} bits)`, stroke: colour, width: 1.5,
                                      points: { show: true, size: 4, fill: colour } }],
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
    }, [curve.recall, curve.precision], holder);
    if (window.ResizeObserver) new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(holder);
  }

  function message() {
    const out = { type: "texture", bits: form.querySelector("input[name=bits]:checked")?.value, k: field("k").value,
                  box: field("box").value.trim() };
    if (query.example) out.example = query.example;
    else if (query.stored) out.q = query.stored;
    else if (query.dataUrl) out.image = query.dataUrl;
    else return null;
    Object.keys(out).forEach((key) => { if (out[key] === "" || out[key] === undefined) delete out[key]; });
    return JSON.stringify(out);
  }

  function send() {
    const text = message();
    if (!text) return false;
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(text); pending = true; return true; }
    if (socket && socket.readyState === WebSocket.CONNECTING) { queued = text; pending = true; return true; }
    return false;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => { if (!send()) form.requestSubmit(); }, 80);
  }

  function show(url) {
    stage.hidden = false;
    image.onload = () => { fit(); drawBox(); };
    image.src = url;
  }

  // The image as large as fits (at most 320 px a side), small textures enlarged pixel by pixel.
  function fit() {
    if (!image.naturalWidth) return;
    const room = Math.min(320, stage.parentElement.clientWidth || 320);
    const s = Math.min(room / image.naturalWidth, 320 / image.naturalHeight);
    image.style.width = `${Math.round(image.naturalWidth * s)}px`;
    image.style.height = `${Math.round(image.naturalHeight * s)}px`;
    image.classList.toggle("enlarged", s > 1);
  }

  // --- the box: a square dragged over the image, kept in the image's own pixels ----------
  const scale = () => image.naturalWidth / image.getBoundingClientRect().width;

  function drawBox() {
    const parts = field("box").value.split(",").map(Number);
    if (parts.length !== 4 || parts.some(Number.isNaN) || !image.naturalWidth) { outline.hidden = true; return; }
    const s = scale();
    Object.assign(outline.style, { left: `${parts[0] / s}px`, top: `${parts[1] / s}px`, width: `${parts[2] / s}px`,
                                   height: `${parts[3] / s}px` });
    outline.hidden = false;
  }

  function boxFrom(start, event) {
    const rect = image.getBoundingClientRect(), s = scale();
    const clamp = (v, high) => Math.max(0, Math.min(high, v));
    const x0 = clamp((start.x - rect.left) * s, image.naturalWidth), y0 = clamp((start.y - rect.top) * s, image.naturalHeight);
    const x1 = clamp((event.clientX - rect.left) * s, image.naturalWidth), y1 = clamp((event.clientY - rect.top) * s, image.naturalHeight);
    // A square, as the networks see every patch, inside the image.
    const room = Math.min(x1 >= x0 ? image.naturalWidth - x0 : x0, y1 >= y0 ? image.naturalHeight - y0 : y0);
    const side = Math.round(Math.min(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)), room));
    const left = Math.round(x1 >= x0 ? x0 : x0 - side), top = Math.round(y1 >= y0 ? y0 : y0 - side);
    return [left, top, side, side];
  }

  let start = null;
  image.addEventListener("pointerdown", (event) => {
    if (!image.naturalWidth) return;
    event.preventDefault();
    start = { x: event.clientX, y: event.clientY };
    image.setPointerCapture(event.pointerId);
  });
  image.addEventListener("pointermove", (event) => {
    if (!start) return;
    field("box").value = boxFrom(start, event).join(",");
    drawBox();
  });
  image.addEventListener("pointerup", (event) => {
    if (!start) return;
    const box = boxFrom(start, event);
    start = null;
    if (box[2] < MIN_SIDE) { field("box").value = ""; drawBox(); return; }  // a click: the default box
    field("box").value = box.join(",");
    drawBox();
    schedule();
  });
  window.addEventListener("resize", () => { fit(); drawBox(); });

  // --- choosing the query -----------------------------------------------------------------
  Live.imageDropzone({
    input: document.getElementById("texture-file"), zone: document.getElementById("texture-drop"),
    onFile: async (file) => {
      query.example = null; query.stored = null;
      field("example").value = "";
      field("box").value = "";
      query.dataUrl = await Live.readAsDataUrl(file);
      Live.markExample(null);
      show(query.dataUrl);
      schedule();
    },
  });
  document.getElementById("texture-examples")?.addEventListener("click", (event) => {
    const link = event.target.closest(".texture-pick");
    if (!link || !socket) return;  // no socket: follow the link, the server runs the query
    event.preventDefault();
    query.example = link.dataset.exampleId; query.dataUrl = null; query.stored = null;
    field("example").value = query.example;
    field("box").value = "";
    document.getElementById("texture-file").value = "";
    Live.markExample(query.example);
    show(link.dataset.src);
    schedule();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "image") return;  // the dropzone handles it
    if (event.target.name === "box") drawBox();
    if (event.target.name === "bits") {
      document.querySelectorAll(".texture-pick").forEach((link) => {
        link.href = `?example=${link.dataset.exampleId}&bits=${event.target.value}`;
      });
    }
    schedule();
  });
  form.addEventListener("submit", (event) => { if (send()) event.preventDefault(); });

  Live.markExample(query.example);
  readState();
  drawCurve();
  connect();
})();
