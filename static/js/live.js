// The live-query plumbing the query pages share (search, sketch, degraded; composites and
// texture use its helpers with sockets of their own), loaded by
// base.html before the page's own script. A page builds one controller with Live.page(...):
// it sends the page's query over the htmx websocket when it is live (falling back to the
// form's htmx post), keeps the status line and the screen-reader announcement, reads the
// #query-state element every results fragment carries, and from it keeps the address bar,
// "copy link", "download CSV" and "save grid as PNG" up to date.
window.Live = (() => {
  const $ = (id) => document.getElementById(id);

  const readAsDataUrl = (blob) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });

  // An image chosen, dropped on ``zone`` or pasted anywhere: onFile(file), with the file put
  // in ``input`` too so that a plain form post carries it. The input is the zone's keyboard
  // stop: Enter or Space opens the file dialog.
  const imageDropzone = ({ input, zone, onFile }) => {
    input.addEventListener("change", () => { if (input.files[0]) onFile(input.files[0]); });
    input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" && e.key !== " ") return;
      e.preventDefault();
      input.click();
    });
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("dragging"); }));
    ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragging")));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      const file = e.dataTransfer.files[0];
      if (!file) return;
      input.files = e.dataTransfer.files;
      onFile(file);
    });
    document.addEventListener("paste", (e) => {
      const file = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
      if (!file) return;
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      onFile(file);
    });
  };

  // Show ``url`` in ``img`` once it has loaded: a file the browser cannot show leaves no
  // broken-image icon behind.
  const showPreview = (img, url) => {
    img.hidden = true;
    img.onload = () => { img.hidden = false; };
    img.onerror = () => { img.hidden = true; img.removeAttribute("src"); };
    img.src = url;
  };

  // The example links: the chosen one highlighted (an id, or null for none).
  const markExample = (id) => document.querySelectorAll(".example").forEach((link) => {
    const chosen = id !== null && link.dataset.exampleId === String(id);
    link.classList.toggle("selected", chosen);
    if (chosen) link.setAttribute("aria-current", "true"); else link.removeAttribute("aria-current");
  });

  // --- #query-state ---------------------------------------------------------------------
  const readState = (el) => el && { link: el.dataset.link || "", csv: el.dataset.csv || "", queryImage: el.dataset.queryImage || "" };
  // The state inside a fragment's HTML (before htmx swaps it anywhere), or null.
  const stateIn = (html) => {
    if (typeof html !== "string" || !html.includes('id="query-state"')) return null;
    const template = document.createElement("template");
    template.innerHTML = html;
    return readState(template.content.getElementById("query-state"));
  };

  const page = (options) => new LivePage(options);
  // A websocket fragment applied without htmx (pages with their own socket): every top-level
  // element replaces the element with its id, or (hx-swap-oob "beforeend") adds its children to it.
  const swapFragments = (html) => {
    const holder = document.createElement("template");
    holder.innerHTML = html;
    for (const element of [...holder.content.children]) {
      const target = element.id && document.getElementById(element.id);
      if (!target) continue;
      if (element.getAttribute("hx-swap-oob") === "beforeend") target.append(...element.children);
      else target.replaceWith(element);
    }
  };

  return { readAsDataUrl, imageDropzone, showPreview, markExample, readState, stateIn, page, swapFragments };
})();

// One query page. options: form, results (the results section's id), empty (its empty
// state's text), message() (the websocket message for the current query, or null when
// there is none yet).
class LivePage {
  constructor({ form, results, empty, message }) {
    Object.assign(this, { form, resultsId: results, emptyText: empty, message });
    this.socket = null;
    this.dropStale = false;  // after a clear: results still in flight are not shown
    this.history = "push";  // how the next query's link enters the address bar
    this.waiting = false;
    this.progress = document.getElementById("query-progress");
    this.announcer = document.getElementById("results-announcer");
    this.state = Live.readState(document.getElementById("query-state")) || { link: "", csv: "", queryImage: "" };
    this.trackSocket(document.getElementById("live-indicator"));
    this.followFragments();
    QueryActions.attach(this);
    // Back and Forward: the address holds a query's link; the server renders it. (A jump to
    // an anchor, the skip link's, pops state too but changes no query.)
    this.shown = window.location.pathname + window.location.search;
    window.addEventListener("popstate", () => {
      if (window.location.pathname + window.location.search !== this.shown) window.location.reload();
    });
  }

  get results() { return document.getElementById(this.resultsId); }

  trackSocket(indicator) {
    const setLive = (socket) => {
      this.socket = socket;
      indicator.textContent = socket ? "live results" : "offline: results load with the page";
      indicator.classList.toggle("live", Boolean(socket));
      indicator.classList.toggle("offline", !socket);
    };
    document.body.addEventListener("htmx:wsOpen", (e) => setLive(e.detail.socketWrapper));
    document.body.addEventListener("htmx:wsClose", () => setLive(null));
    document.body.addEventListener("htmx:wsError", () => setLive(null));
    // With a live socket, the websocket carries the query instead of the form post.
    this.form.addEventListener("htmx:confirm", (e) => {
      if (this.sendLive()) e.preventDefault();
      else this.searching();
    });
  }

  // Send the current query over the websocket; false when there is no live socket or no query.
  sendLive() {
    const message = this.socket && this.message();
    if (!message) return false;
    this.dropStale = false;
    this.socket.send(JSON.stringify(message));
    this.searching();
    return true;
  }

  // Run the current query: ``history`` is "push" for a new query, "replace" for a tweak of it.
  run(history = "push") {
    this.history = history;
    if (!this.sendLive()) htmx.trigger(this.form, "submit");
  }

  // Forget the results shown and any still in flight (e.g. the canvas was cleared).
  discard(text = this.emptyText) {
    this.dropStale = true;
    this.finish();
    this.showEmpty(text);
    document.getElementById("form-errors")?.replaceChildren();
  }

  showEmpty(text = this.emptyText) {
    const results = this.results;
    if (!results) return;
    results.replaceChildren();
    const box = document.createElement("div");
    box.className = "empty-state";
    box.innerHTML = "<p></p>";
    box.firstChild.textContent = text;
    results.append(box);
    this.announce("");
  }

  searching() {
    this.waiting = true;
    if (this.progress) this.progress.textContent = "Searching…";
  }

  finish() {
    this.waiting = false;
    if (this.progress) this.progress.textContent = "";
  }

  followFragments() {
    const body = document.body;
    body.addEventListener("htmx:wsBeforeMessage", (e) => {
      if (this.dropStale) { e.preventDefault(); return; }
      this.capture(e.detail.message);
    });
    body.addEventListener("htmx:wsAfterMessage", () => this.settled(false));
    body.addEventListener("htmx:beforeSwap", (e) => {
      if (e.detail.elt === this.form) this.capture(e.detail.serverResponse);
    });
    body.addEventListener("htmx:afterSettle", (e) => { if (e.detail.elt === this.form) this.settled(true); });
    body.addEventListener("htmx:responseError", () => this.finish());
    body.addEventListener("htmx:sendError", () => this.finish());
  }

  capture(html) {
    const state = Live.stateIn(html);
    if (!state) return;
    this.state = state;
    QueryActions.update(state);
    this.updateAddress(state.link);
  }

  updateAddress(relative) {
    if (!relative) return;
    const url = new URL(relative, window.location.href);
    const link = url.pathname + url.search;
    if (link === window.location.pathname + window.location.search) return;
    if (this.history === "push") window.history.pushState({ live: true }, "", link);
    else window.history.replaceState({ live: true }, "", link);
    this.shown = link;
    this.history = "replace";  // until the page starts a new query
  }

  // After a fragment is in: a query that ended (results done or an error) is announced.
  settled(posted) {
    const errors = document.getElementById("form-errors");
    const failed = Boolean(errors && errors.textContent.trim());
    const results = this.results;
    const done = posted || failed || (results && results.querySelector(".status.done"));
    if (!done || !this.waiting) return;
    this.finish();
    if (failed) {
      // The results on show answer an earlier query, not the one that failed: nothing to share.
      if (results && results.querySelector(".result-card")) this.showEmpty();
      this.state = { link: "", csv: "", queryImage: "" };
      this.announce("");
    } else {
      this.announceResults();
    }
    QueryActions.update(this.state);
  }

  announce(text) { if (this.announcer) this.announcer.textContent = text; }

  announceResults() {
    const cards = this.results ? [...this.results.querySelectorAll(".result-card")] : [];
    if (!cards.length) { this.announce("No results."); return; }
    const best = cards[0];
    const label = best.querySelector(".label")?.textContent.replace("✓", "").trim();
    const distance = best.querySelector(".feature-distance")?.textContent.trim();
    this.announce(`${cards.length} result${cards.length === 1 ? "" : "s"}, best: ${label} at ${distance}`);
  }
}

// The bar under a query page's form: copy the query's link, download its results as CSV,
// save the grid (query and results with rank, class and distance) as a PNG for slides.
const QueryActions = {
  attach(page) {
    this.bar = document.getElementById("query-actions");
    if (!this.bar) return;
    this.page = page;
    this.feedback = this.bar.querySelector(".action-feedback");
    this.bar.querySelector("[data-action=copy-link]").addEventListener("click", () => this.copyLink());
    this.bar.querySelector("[data-action=save-png]").addEventListener("click", () => this.savePng());
    this.update(page.state);
  },

  update(state) {
    if (!this.bar) return;
    const csv = this.bar.querySelector("#query-csv");
    const ready = Boolean(state.link);
    // Nothing to share before the first query: the bar shows with a link or results.
    this.bar.hidden = !ready && !document.querySelector(`#${this.page.resultsId} .result-card`);
    // The PNG is drawn from the cards on the page: it needs no link (and says when there are no results).
    this.bar.querySelector("[data-action=copy-link]").disabled = !ready;
    this.bar.querySelector("[data-action=save-png]").disabled = false;
    if (state.csv) csv.href = state.csv; else csv.removeAttribute("href");
    csv.setAttribute("aria-disabled", String(!state.csv));
    this.bar.querySelector("#query-link-field").value = ready ? new URL(state.link, window.location.href).href : "";
  },

  say(text) {
    this.feedback.textContent = text;
    clearTimeout(this.sayTimer);
    this.sayTimer = setTimeout(() => { this.feedback.textContent = ""; }, 2500);
  },

  async copyLink() {
    const field = this.bar.querySelector("#query-link-field");
    try {
      await navigator.clipboard.writeText(field.value);
      field.hidden = true;
      this.say("Copied");
    } catch {
      // No clipboard API (an insecure origin, or permission refused): select the link to copy by hand.
      field.hidden = false;
      field.focus();
      field.select();
      this.say(document.execCommand && document.execCommand("copy") ? "Copied" : "Press Ctrl+C to copy");
    }
  },

  // The query image(s) and the cards, one row per result list (the degraded page has three).
  gridRows() {
    const fallback = document.querySelector(".query-images img:last-of-type, #sketch-view, #sketch-generated");
    return [...document.querySelectorAll(`#${this.page.resultsId} ol.result-grid`)].map((list) => ({
      query: list.closest(".degraded-row")?.querySelector(".row-query img") || fallback,
      title: list.closest(".degraded-row")?.querySelector(".row-query strong")?.textContent || "query",
      cards: [...list.querySelectorAll(".result-card")].map((card) => ({
        image: card.querySelector(".thumb img"),
        rank: card.dataset.rank,
        label: card.querySelector(".label")?.textContent.replace("✓", "").trim(),
        match: Boolean(card.querySelector(".match")),
        distance: card.querySelector(".feature-distance")?.textContent.trim(),
      })),
    })).filter((row) => row.cards.length);
  },

  savePng() {
    const rows = this.gridRows();
    if (!rows.length) { this.say("No results to save yet"); return; }
    const tile = 112, gap = 14, text = 38, perRow = Math.min(10, Math.max(...rows.map((r) => r.cards.length)));
    const lines = rows.map((row) => Math.ceil(row.cards.length / perRow));
    const width = gap + (perRow + 1) * (tile + gap) + gap;
    const height = gap + lines.reduce((sum, n) => sum + n * (tile + text + gap), 0);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingEnabled = false;  // the gallery's 28 px images stay sharp when scaled up
    let y = gap;
    rows.forEach((row, i) => {
      this.drawTile(ctx, row.query, gap, y, tile, [row.title, ""], "#3e63dd");
      row.cards.forEach((card, j) => {
        const x = gap + (j % perRow + 1) * (tile + gap) + gap;
        const top = y + Math.floor(j / perRow) * (tile + text + gap);
        this.drawTile(ctx, card.image, x, top, tile, [`#${card.rank} ${card.match ? "✓ " : ""}${card.label}`, `distance ${card.distance}`]);
      });
      y += lines[i] * (tile + text + gap);
    });
    const link = document.createElement("a");
    link.download = `${document.title.split(" · ")[0].toLowerCase().replace(/\W+/g, "-")}-results.png`;
    link.href = canvas.toDataURL("image/png");
    link.click();
    this.say("Saved");
  },

  drawTile(ctx, image, x, y, side, captions, frame = "#e0e1e6") {
    ctx.fillStyle = "#000";
    ctx.fillRect(x, y, side, side);
    if (image && image.complete && image.naturalWidth) {
      const scale = Math.min(side / image.naturalWidth, side / image.naturalHeight);
      const w = image.naturalWidth * scale, h = image.naturalHeight * scale;
      ctx.drawImage(image, x + (side - w) / 2, y + (side - h) / 2, w, h);
    }
    ctx.strokeStyle = frame;
    ctx.lineWidth = 2;
    ctx.strokeRect(x, y, side, side);
    ctx.fillStyle = "#1c2024";
    ctx.font = "600 13px system-ui, sans-serif";
    ctx.fillText(captions[0], x, y + side + 16, side);
    ctx.fillStyle = "#60646c";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(captions[1], x, y + side + 31, side);
  },
};
