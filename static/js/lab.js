// The descriptor lab over the search websocket: the query's head first, then one column per
// descriptor as each finishes. Without a socket the links and the form work as plain requests.
// The embedding map (the gallery in one descriptor's space, uPlot) follows the latest query.
(function () {
  "use strict";
  const page = document.getElementById("lab-page");
  if (!page) return;
  const map = embeddingMap();
  if (!("WebSocket" in window)) return;
  const form = document.getElementById("lab-form");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  let socket = null;

  function connect() {
    socket = new WebSocket(scheme + location.host + page.dataset.socket);
    socket.addEventListener("message", (event) => swapIn(event.data));
    socket.addEventListener("close", () => { socket = null; });
  }

  // Every top-level element of a fragment replaces the element with its id.
  function swapIn(html) {
    const holder = document.createElement("template");
    holder.innerHTML = html;
    for (const element of [...holder.content.children]) {  // a copy: replaceWith moves each out of the live list
      const target = element.id && document.getElementById(element.id);
      if (target) target.replaceWith(element);
    }
    map.refresh();
  }

  function send(fields) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify({
      type: "lab", k: form.elements.k.value, metric: form.elements.metric.value,
      gallery: form.elements.gallery.value, ...fields,
    }));
    return true;
  }

  document.getElementById("lab-examples")?.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-example]");
    if (link && send({ example: link.dataset.example })) {
      event.preventDefault();
      history.replaceState(null, "", link.getAttribute("href"));
    }
  });

  form.addEventListener("submit", (event) => {
    const file = form.elements.image.files[0];
    if (!file || !socket || socket.readyState !== WebSocket.OPEN) return;
    event.preventDefault();
    const reader = new FileReader();
    reader.onload = () => send({ image: reader.result });
    reader.readAsDataURL(file);
  });

  connect();

  // --- the embedding map -------------------------------------------------------------------
  function embeddingMap() {
    const panel = document.getElementById("lab-map");
    const holder = document.getElementById("lab-map-plot");
    const choice = document.getElementById("lab-map-descriptor");
    const note = document.getElementById("lab-map-note");
    const none = { refresh() {} };
    if (!panel || !holder || typeof window.uPlot !== "function") return none;
    // Kelly's 20 colours of maximum contrast (less his white and black, which the query and
    // the rings use), so that 17 classes stay apart.
    const COLOURS = ["#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280", "#848482", "#008856", "#e68fac",
      "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300", "#882d17", "#8db600", "#654522",
      "#e25822", "#2b3d26", "#f3c300"];
    const loaded = {};  // "gallery descriptor" -> the map's data
    let plot = null;
    let shownKey = "";

    function gallery() {
      const results = document.getElementById("lab-results");
      const form = document.getElementById("lab-form");
      return (results && results.dataset.gallery) || (form && form.elements.gallery.value) || "";
    }

    async function data(slug, descriptor) {
      const key = slug + " " + descriptor;
      if (!loaded[key]) {
        const url = panel.dataset.url + "?" + new URLSearchParams({ gallery: slug, descriptor });
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        const body = await response.json();
        if (!response.ok) throw new Error(body.detail || response.statusText);
        loaded[key] = body;
      }
      return loaded[key];
    }

    // uPlot draws series over one sorted x: every point is one x, each class a series that is
    // null except at its own points; the top k ringed and the query (a star) are two more.
    function frame(d, query) {
      const n = d.x.length;
      const order = Array.from({ length: n + (query ? 1 : 0) }, (_, i) => i);
      const xOf = (i) => (i < n ? d.x[i] : query.x);
      order.sort((a, b) => xOf(a) - xOf(b));
      const classes = Object.keys(d.classes);
      const slot = Object.fromEntries(classes.map((label, i) => [label, i]));
      const columns = classes.map(() => new Array(order.length).fill(null));
      const unlabelled = new Array(order.length).fill(null);
      const ringed = new Array(order.length).fill(null);
      const star = new Array(order.length).fill(null);
      order.forEach((i, at) => {
        if (i === n) { star[at] = query.y; return; }
        const series = slot[String(d.label[i])];
        (series === undefined ? unlabelled : columns[series])[at] = d.y[i];
        if (query && query.hits.has(d.id[i])) ringed[at] = d.y[i];
      });
      return { xs: order.map(xOf), classes, columns: [...columns, unlabelled, ringed, star] };
    }

    function draw(d, query) {
      const f = frame(d, query);
      const small = (holder.clientWidth || 0) < 480;  // phones: smaller dots in a smaller frame
      const dot = (colour) => ({ show: true, size: small ? 4 : 5, width: 0, fill: colour, stroke: colour });
      const series = [{ label: "PC 1" },
        ...f.classes.map((label, i) => ({ label: d.classes[label], stroke: COLOURS[i % COLOURS.length],
          fill: COLOURS[i % COLOURS.length], paths: () => null, points: dot(COLOURS[i % COLOURS.length]) })),
        { label: "unlabelled", stroke: "#8b8d98", fill: "#8b8d98", paths: () => null, points: dot("#8b8d98") },
        { label: "top k", stroke: "#111", paths: () => null, points: { show: true, size: 12, width: 2, stroke: "#111", fill: "transparent" } },
        { label: "query", stroke: "#111", fill: "#111", paths: () => null, points: { show: true, size: 16, width: 2, stroke: "#fff", fill: "#111" } }];
      if (!f.columns[f.classes.length].some((v) => v !== null)) {  // no unlabelled points: no legend entry
        f.columns.splice(f.classes.length, 1);
        series.splice(f.classes.length + 1, 1);
      }
      if (plot) plot.destroy();
      const width = Math.max(260, holder.clientWidth || 260);
      plot = new uPlot({
        width, height: small ? Math.round(width * 0.9) : Math.min(420, Math.max(260, Math.round(width * 0.6))),
        scales: { x: { time: false } },
        axes: [{ label: `PC 1 (${Math.round(100 * d.explained_variance[0])}% of variance)`, size: 40 },
          { label: `PC 2 (${Math.round(100 * d.explained_variance[1])}%)`, size: small ? 48 : 56 }],
        series, cursor: { drag: { x: false, y: false }, points: { show: false } },
        legend: { live: false },
      }, [f.xs, ...f.columns], holder);
      holder.dataset.points = String(d.x.length);
      holder.dataset.descriptor = d.descriptor;
      holder.dataset.query = query ? "placed" : "";
      holder.dataset.ringed = String(f.columns[f.columns.length - 2].filter((v) => v !== null).length);
    }

    function placedQuery(descriptor) {
      const column = document.getElementById("lab-col-" + descriptor);
      if (!column || column.dataset.x === undefined || column.dataset.x === "") return null;
      return { x: Number(column.dataset.x), y: Number(column.dataset.y),
        hits: new Set((column.dataset.hits || "").split(",").filter(Boolean).map(Number)) };
    }

    async function refresh() {
      const slug = gallery();
      const descriptor = choice.value;
      if (!slug) return;
      const query = placedQuery(descriptor);
      const key = [slug, descriptor, query ? [query.x, query.y, [...query.hits]].join() : ""].join(" ");
      if (key === shownKey) return;
      shownKey = key;
      try {
        const d = await data(slug, descriptor);
        if (shownKey !== key) return;  // a newer refresh won
        draw(d, query);
        note.textContent = `${d.points} of ${d.gallery_items} images of ${d.gallery}, ${choice.selectedOptions[0].text}: ` +
          `the first two principal axes, coloured by class` + (query ? "; the query is the large black dot, its top k ringed." : "; run a query to place it.");
      } catch (error) {
        shownKey = "";
        if (plot) { plot.destroy(); plot = null; }
        note.textContent = `No map yet: ${error.message}`;
      }
    }

    choice.addEventListener("change", refresh);
    if (window.ResizeObserver) {
      let width = holder.clientWidth;
      new ResizeObserver(() => {
        if (plot && Math.abs(holder.clientWidth - width) > 8) { width = holder.clientWidth; shownKey = ""; refresh(); }
      }).observe(holder);
    }
    refresh();
    return { refresh };
  }
})();
