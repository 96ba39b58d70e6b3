// The composites page over the search websocket: pick 2-3 gallery images, choose how to combine
// them, and every change (a blend slider too) builds the composite on the server and re-ranks its
// sources live. Without a socket the form posts; without JavaScript type the ids and post.
(function () {
  "use strict";
  const page = document.getElementById("composites-page");
  if (!page) return;
  const form = document.getElementById("composites-form");
  const field = (name) => form.elements[name];
  const picks = field("sources").value.split(",").map((s) => s.trim()).filter(Boolean);
  const sliders = document.getElementById("alpha-sliders");
  const progress = document.getElementById("composites-progress");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  let socket = null, timer = null, queued = null;

  function showFor() {
    form.dataset.combine = field("combine").value;
  }

  function drawSliders() {
    const old = (field("alphas").value || "").split(",").map(Number);
    sliders.replaceChildren(...picks.map((id, i) => {
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: "0.05", max: "1", step: "0.01", value: String(old[i] > 0 ? old[i] : (1 / picks.length).toFixed(2)) });
      input.setAttribute("aria-label", `weight of image ${id}`);
      input.dataset.index = String(i);
      input.addEventListener("input", () => { readSliders(); schedule(); });
      return input;
    }));
    readSliders();
  }

  function readSliders() {
    field("alphas").value = [...sliders.querySelectorAll("input")].map((s) => s.value).join(",");
  }

  function markPicks() {
    document.querySelectorAll("#composite-examples .pick").forEach((button) => {
      const on = picks.includes(button.dataset.id);
      button.classList.toggle("picked", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    field("sources").value = picks.join(",");
    const count = document.getElementById("pick-count");
    if (count) count.textContent = `${picks.length} picked`;
  }

  function connect() {
    if (!("WebSocket" in window)) return;
    socket = new WebSocket(scheme + location.host + page.dataset.socket);
    socket.addEventListener("message", (event) => { working(false); swapIn(event.data); });
    socket.addEventListener("open", () => { if (queued) { socket.send(queued); queued = null; } });
    socket.addEventListener("close", () => { socket = null; working(false); });
  }

  // The server answers once the composite is built and explained: say so meanwhile (a gallery's
  // first query, or a large upload, can take seconds).
  function working(on) {
    progress.textContent = on ? "Building the composite and finding its sources…" : "";
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function swapIn(html) {
    Live.swapFragments(html);
    const state = document.getElementById("query-state");
    if (state && state.dataset.link) history.replaceState(null, "", state.dataset.link);
  }

  function message(extra) {
    const fields = ["combine", "sources", "alphas", "layout", "texture", "scale", "seed", "k", "gallery"];
    const out = { type: "composites" };
    fields.forEach((name) => { if (field(name) && field(name).value !== "") out[name] = field(name).value; });
    return JSON.stringify({ ...out, ...extra });
  }

  function send(extra = {}) {
    const combine = field("combine").value;
    if (combine !== "upload" && picks.length < 2) return false;
    const text = message(extra);
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
    else if (socket && socket.readyState === WebSocket.CONNECTING) queued = text;
    else return false;
    working(true);
    return true;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (field("combine").value === "upload") sendUpload(); else send();
    }, 120);
  }

  function sendUpload() {
    const file = document.getElementById("composite-file").files[0];
    if (!file) return false;
    const reader = new FileReader();
    reader.onload = () => send({ image: reader.result, combine: "upload" });
    reader.readAsDataURL(file);
    return true;
  }

  document.getElementById("composite-examples")?.addEventListener("click", (event) => {
    const button = event.target.closest(".pick");
    if (!button) return;
    const id = button.dataset.id;
    const at = picks.indexOf(id);
    if (at >= 0) picks.splice(at, 1);
    else { picks.push(id); if (picks.length > 3) picks.shift(); }
    if (field("combine").value === "upload") { field("combine").value = "blend"; showFor(); }
    markPicks();
    drawSliders();
    schedule();
  });

  form.addEventListener("change", (event) => {
    if (event.target.name === "sources") {
      picks.splice(0, picks.length, ...field("sources").value.split(",").map((s) => s.trim()).filter(Boolean));
      markPicks();
      drawSliders();
    }
    showFor();
    schedule();
  });
  form.addEventListener("input", (event) => { if (event.target.name === "scale") schedule(); });
  form.addEventListener("submit", (event) => {
    const sent = field("combine").value === "upload" ? socket && sendUpload() : send();
    if (sent) event.preventDefault();
  });

  showFor();
  drawSliders();
  connect();
})();
