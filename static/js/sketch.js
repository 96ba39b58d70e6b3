// Sketch page: draw with pointer events (mouse, touch, pen) on a canvas. After each stroke
// (debounced) the drawing goes over the websocket as a PNG data URL and the results update
// in place (htmx's ws extension swaps the fragments; the server searches only the newest).
// Without a live socket the form posts through htmx; without JavaScript, upload a drawing.
(() => {
  const form = document.getElementById("sketch-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const pad = $("sketch-pad");
  const canvas = $("sketch-canvas");
  const ctx = canvas.getContext("2d");
  const underlay = $("sketch-underlay");
  const traceSelect = $("trace-select");
  const brush = $("brush-size");
  const eraser = $("tool-eraser");
  const undoButton = $("tool-undo");
  const redoButton = $("tool-redo");
  const clearButton = $("tool-clear");
  const fileInput = $("id_image");
  const dataField = $("id_image_data");
  const exampleField = $("id_example");
  const SIDE = 280;  // the canvas's drawing space, in CSS pixels at full size
  const DEBOUNCE_MS = 250;
  const QUERY_FIELDS = ["k", "metric", "mode", "gallery"];

  pad.hidden = false;

  // --- the drawing: a history of strokes, placed images and clears; undo pops, redo pushes back
  let history = [];
  let undone = [];
  let current = null;  // the stroke under the pointer
  let erasing = false;

  const visible = () => history.slice(history.map((e) => e.kind).lastIndexOf("clear") + 1);
  const hasDrawing = () => visible().length > 0;

  const fitResolution = () => {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = canvas.height = Math.round(SIDE * ratio);
    redraw();
  };

  const begin = (erase) => {
    ctx.setTransform(canvas.width / SIDE, 0, 0, canvas.height / SIDE, 0, 0);
    ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    ctx.strokeStyle = ctx.fillStyle = "#000";
    ctx.lineCap = ctx.lineJoin = "round";
  };
  const paintDot = (stroke, p) => {
    begin(stroke.erase);
    ctx.beginPath();
    ctx.arc(p.x, p.y, p.w / 2, 0, 2 * Math.PI);
    ctx.fill();
  };
  const paintSegment = (stroke, a, b) => {
    begin(stroke.erase);
    ctx.lineWidth = (a.w + b.w) / 2;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  };
  const paint = (entry) => {
    if (entry.kind === "image") {
      begin(false);
      ctx.drawImage(entry.image, entry.x, entry.y, entry.w, entry.h);
      return;
    }
    paintDot(entry, entry.points[0]);
    for (let i = 1; i < entry.points.length; i += 1) paintSegment(entry, entry.points[i - 1], entry.points[i]);
  };
  function redraw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    visible().forEach(paint);
  }

  // The canvas on white paper, without the tracing underlay (a separate element), as PNG.
  const exportDataUrl = () => {
    const out = document.createElement("canvas");
    out.width = out.height = SIDE;
    const o = out.getContext("2d");
    o.fillStyle = "#fff";
    o.fillRect(0, 0, SIDE, SIDE);
    o.drawImage(canvas, 0, 0, SIDE, SIDE);
    return out.toDataURL("image/png");
  };

  const pointOf = (e) => {
    const rect = canvas.getBoundingClientRect();
    const size = Number(brush.value);
    // A pen's pressure scales its line (0.5x to 1.5x); mice and fingers draw at the brush size.
    const w = e.pointerType === "pen" && e.pressure > 0 ? size * (0.5 + e.pressure) : size;
    return { x: (e.clientX - rect.left) * SIDE / rect.width, y: (e.clientY - rect.top) * SIDE / rect.height, w };
  };

  canvas.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    current = { kind: "stroke", erase: erasing, points: [pointOf(e)], pointerId: e.pointerId };
    paintDot(current, current.points[0]);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!current || e.pointerId !== current.pointerId) return;
    const events = (e.getCoalescedEvents && e.getCoalescedEvents().length) ? e.getCoalescedEvents() : [e];
    for (const event of events) {
      const p = pointOf(event);
      paintSegment(current, current.points[current.points.length - 1], p);
      current.points.push(p);
    }
  });
  const endStroke = (e) => {
    if (!current || e.pointerId !== current.pointerId) return;
    const stroke = current;
    current = null;
    record(stroke);
  };
  ["pointerup", "pointercancel", "lostpointercapture"].forEach((type) => canvas.addEventListener(type, endStroke));

  const record = (entry) => {
    history.push(entry);
    undone = [];
    changed();
  };
  const undo = () => {
    if (!history.length) return;
    undone.push(history.pop());
    redraw();
    changed("Undone");
  };
  const redo = () => {
    if (!undone.length) return;
    history.push(undone.pop());
    redraw();
    changed("Redone");
  };
  const clear = () => {
    if (!hasDrawing()) return;
    record({ kind: "clear" });
    redraw();
  };

  // --- searching (static/js/live.js sends it and follows the results) -----------------
  let timer = null;
  let sendFile = false;  // the query is a file as chosen (one the browser cannot show), not the canvas

  // The query is the canvas: the hidden field carries it in a form post too.
  const prepare = () => {
    if (sendFile) return;
    dataField.value = exportDataUrl();
    fileInput.value = "";
  };
  const live = Live.page({
    form, results: "sketch-results", empty: "The canvas is empty: draw to search.",
    message: () => {
      prepare();
      const data = new FormData(form);
      const values = Object.fromEntries(QUERY_FIELDS.map((name) => [name, data.get(name)]));
      return { type: "sketch", image: dataField.value, ...values, example: exampleField.value || null };
    },
  });
  form.addEventListener("htmx:confirm", prepare);
  let drawnSince = false;  // a query ran for this drawing: later strokes refine it (replace, not push)
  const search = () => {
    clearTimeout(timer);
    prepare();
    live.run(drawnSince ? "replace" : "push");
    drawnSince = true;
  };
  const scheduleSearch = () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  };

  function changed(message, { run = true } = {}) {
    undoButton.disabled = !history.length;
    redoButton.disabled = !undone.length;
    clearButton.disabled = !hasDrawing();
    if (!run) return;
    if (hasDrawing()) {
      sendFile = false;
      scheduleSearch();
      if (message) live.announce(message);
    } else {
      clearTimeout(timer);
      drawnSince = false;
      live.discard();
      live.announce(history.length ? "Canvas cleared" : "Nothing drawn");
    }
  }

  // The mode, k, the metric or the gallery changed: the same drawing, searched again.
  form.addEventListener("change", (e) => {
    if (QUERY_FIELDS.includes(e.target.name) && hasDrawing()) scheduleSearch();
  });

  // --- the results strip: on phones, the latest results right under the canvas -------------
  const strip = $("sketch-strip");
  const fillStrip = () => {
    const cards = [...document.querySelectorAll("#result-grid .result-card")].slice(0, 10);
    strip.replaceChildren(...cards.map((card) => {
      const item = document.createElement("li");
      const image = card.querySelector(".thumb img").cloneNode();
      image.removeAttribute("width");
      image.removeAttribute("height");
      const label = document.createElement("span");
      label.textContent = card.querySelector(".label").textContent.replace("✓", "").trim();
      item.title = `#${card.dataset.rank} ${label.textContent}`;
      item.append(image, label);
      item.classList.toggle("same-class", Boolean(card.querySelector(".match")));
      return item;
    }));
    strip.classList.toggle("empty", !cards.length);
  };
  new MutationObserver((changes) => { if (changes.some((c) => !strip.contains(c.target))) fillStrip(); })
    .observe(form.closest(".sketch-page"), { childList: true, subtree: true });
  fillStrip();

  // --- tools -----------------------------------------------------------------------------
  const showBrush = () => { $("brush-size-value").textContent = `${brush.value} px`; };
  brush.addEventListener("input", showBrush);
  showBrush();
  eraser.addEventListener("click", () => {
    erasing = !erasing;
    eraser.setAttribute("aria-pressed", String(erasing));
    canvas.classList.toggle("erasing", erasing);
  });
  undoButton.addEventListener("click", undo);
  redoButton.addEventListener("click", redo);
  clearButton.addEventListener("click", clear);
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
    if (e.target.closest && e.target.closest("input:not([type=radio]):not([type=range]), textarea, select")) return;
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) undo();
    else if ((key === "z" && e.shiftKey) || key === "y") redo();
    else return;
    e.preventDefault();
  });

  if (traceSelect) {
    traceSelect.addEventListener("change", () => {
      const option = traceSelect.selectedOptions[0];
      underlay.hidden = !option.value;
      if (option.value) underlay.src = option.dataset.url;
      exampleField.value = option.value;
      if (hasDrawing()) scheduleSearch();
    });
  }

  // An uploaded drawing lands on the canvas (fitted, undoable); strokes can be added to it.
  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    if (!file) return;
    const url = URL.createObjectURL(file);
    const image = new Image();
    image.onload = () => {
      const scale = Math.min(SIDE / image.naturalWidth, SIDE / image.naturalHeight);
      const w = image.naturalWidth * scale;
      const h = image.naturalHeight * scale;
      record({ kind: "image", image, x: (SIDE - w) / 2, y: (SIDE - h) / 2, w, h });
      redraw();
      fileInput.value = "";
    };
    image.onerror = async () => {
      // Not an image the browser can show: send the file as it is; the server says what is wrong.
      URL.revokeObjectURL(url);
      dataField.value = await Live.readAsDataUrl(file);
      sendFile = true;
      live.run("push");
    };
    image.src = url;
  });

  // --- opened from a link -------------------------------------------------------------------
  // The linked drawing goes back on the canvas (its ink only, so a tracing image still shows
  // through); its results are on the page already, so nothing is searched until it changes.
  const inkOnly = (image) => {
    const out = document.createElement("canvas");
    out.width = out.height = SIDE;
    const o = out.getContext("2d");
    o.drawImage(image, 0, 0, SIDE, SIDE);
    const pixels = o.getImageData(0, 0, SIDE, SIDE);
    for (let i = 0; i < pixels.data.length; i += 4) {
      const d = pixels.data;
      const ink = 255 - (d[i] + d[i + 1] + d[i + 2]) / 3;
      d[i] = d[i + 1] = d[i + 2] = 0;
      d[i + 3] = Math.round(ink * d[i + 3] / 255);
    }
    o.putImageData(pixels, 0, 0);
    return out;
  };
  const restoreDrawing = (url) => {
    const image = new Image();
    image.onload = () => {
      history.push({ kind: "image", image: inkOnly(image), x: 0, y: 0, w: SIDE, h: SIDE });
      redraw();
      drawnSince = true;
      changed(null, { run: false });
    };
    image.src = url;
  };
  // (Only a stored drawing, ?q=: the traced example is the underlay, never the drawing.)
  if (live.state.queryImage && new URLSearchParams(window.location.search).has("q")) restoreDrawing(live.state.queryImage);

  // ?trace=<gallery image id> (the gallery page's "sketch over it"): that image under the canvas.
  const traceWith = (option) => {
    traceSelect.value = option.value;
    traceSelect.dispatchEvent(new Event("change", { bubbles: true }));
  };
  // (A drawing's own link names what it traced as ?example=.)
  const linkParams = new URLSearchParams(window.location.search);
  const traced = linkParams.get("trace") || linkParams.get("example");
  if (traceSelect && /^\d+$/.test(traced || "")) {
    const known = [...traceSelect.options].find((option) => option.value === traced);
    if (known) traceWith(known);
    else {
      fetch(`/api/images/${traced}/`).then((r) => (r.ok ? r.json() : Promise.reject(r.status))).then((image) => {
        const option = new Option(`${image.label_name} #${image.id}`, String(image.id));
        option.dataset.url = image.image_url;
        traceSelect.add(option);
        traceWith(option);
      }).catch(() => {});
    }
  }

  fitResolution();
  window.addEventListener("resize", () => {
    if (Math.round(SIDE * (window.devicePixelRatio || 1)) !== canvas.width) fitResolution();
  });
})();
