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
  const indicator = $("live-indicator");
  const announcer = $("sketch-state");
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

  // --- searching -----------------------------------------------------------------------
  let socket = null;
  let timer = null;
  let dropStale = false;  // after a clear: results still in flight are not shown
  let sendFile = false;  // the next post carries the chosen file, not the canvas

  const announce = (text) => { announcer.textContent = text; };
  Portal.trackLiveSocket(indicator, (live) => { socket = live; });
  document.body.addEventListener("htmx:wsBeforeMessage", (e) => { if (dropStale) e.preventDefault(); });
  document.body.addEventListener("htmx:wsAfterMessage", (e) => {
    if (/class="status done"|<p>/.test(e.detail.message)) announce("");  // results or an error are shown
  });

  const params = () => {
    const data = new FormData(form);
    const values = Object.fromEntries(QUERY_FIELDS.map((name) => [name, data.get(name)]));
    return { ...values, example: exampleField.value || null };
  };
  // The query is the canvas: the hidden field carries it in a form post too.
  const prepare = () => {
    dataField.value = exportDataUrl();
    fileInput.value = "";
  };
  // Send the drawing over the websocket; false when there is no live socket.
  const searchLive = () => {
    if (!socket) return false;
    dropStale = false;
    socket.send(JSON.stringify({ type: "sketch", image: dataField.value, ...params() }));
    announce("Searching…");
    return true;
  };
  const search = () => {
    clearTimeout(timer);
    prepare();
    if (!searchLive()) htmx.trigger(form, "submit");
  };
  const scheduleSearch = () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  };
  const showEmpty = () => {
    clearTimeout(timer);
    dropStale = true;
    $("sketch-results").innerHTML = '<div class="empty-state"><p>The canvas is empty: draw to search.</p></div>';
    $("form-errors").replaceChildren();
  };

  function changed(message) {
    undoButton.disabled = !history.length;
    redoButton.disabled = !undone.length;
    clearButton.disabled = !hasDrawing();
    if (hasDrawing()) {
      scheduleSearch();
      if (message) announce(message);
    } else {
      showEmpty();
      announce(history.length ? "Canvas cleared" : "Nothing drawn");
    }
  }

  // With a live socket, the websocket carries the query instead of the form post.
  form.addEventListener("htmx:confirm", (e) => {
    if (!sendFile) prepare();
    sendFile = false;
    if (searchLive()) e.preventDefault();
  });
  form.addEventListener("change", (e) => {
    if (QUERY_FIELDS.includes(e.target.name) && hasDrawing()) scheduleSearch();
  });

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
      dataField.value = await Portal.readAsDataUrl(file);
      if (!searchLive()) {
        sendFile = true;
        htmx.trigger(form, "submit");
      }
    };
    image.src = url;
  });

  fitResolution();
  window.addEventListener("resize", () => {
    if (Math.round(SIDE * (window.devicePixelRatio || 1)) !== canvas.width) fitResolution();
  });
})();
