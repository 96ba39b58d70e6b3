// Search page: choose, drop or paste an image; with a live websocket the query goes over it
// and results stream in (htmx's ws extension swaps the fragments); without one the form
// posts normally (htmx, or a plain post when JavaScript is off).
(() => {
  const form = document.getElementById("search-form");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const zone = document.getElementById("dropzone");
  const preview = document.getElementById("dropzone-preview");
  const indicator = document.getElementById("live-indicator");
  let socket = null;
  let queryDataUrl = null;
  let exampleId = null;  // set while the query is a test-set example (its true class is known)

  const setLive = (live) => {
    socket = live;
    indicator.textContent = live ? "live results" : "offline: results load with the page";
    indicator.classList.toggle("live", Boolean(live));
    indicator.classList.toggle("offline", !live);
  };
  document.body.addEventListener("htmx:wsOpen", (e) => setLive(e.detail.socketWrapper));
  document.body.addEventListener("htmx:wsClose", () => setLive(null));
  document.body.addEventListener("htmx:wsError", () => setLive(null));

  const readAsDataUrl = (blob) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });

  const params = () => {
    const data = new FormData(form);
    return { k: data.get("k"), metric: data.get("metric"), gallery: data.get("gallery") };
  };

  // Send the current query over the websocket; false when there is no live socket.
  const searchLive = () => {
    if (!socket || !queryDataUrl) return false;
    socket.send(JSON.stringify({ type: "search", image: queryDataUrl, example: exampleId, ...params() }));
    return true;
  };

  const choose = async (blob) => {
    queryDataUrl = await readAsDataUrl(blob);
    preview.src = queryDataUrl;
    preview.hidden = false;
    // A fetched example or pasted image is not in the file input: the fallback post sends it as data.
    form.querySelector("#id_image_data").value = input.files.length ? "" : queryDataUrl;
    if (!searchLive()) htmx.trigger(form, "submit");
  };

  input.addEventListener("change", () => { exampleId = null; if (input.files[0]) choose(input.files[0]); });
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("dragging"); }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragging")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (!file) return;
    input.files = e.dataTransfer.files;  // so a plain post carries it too
    exampleId = null;
    choose(file);
  });
  document.addEventListener("paste", (e) => {
    const file = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith("image/"));
    if (file) {
      exampleId = null;
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      choose(file);
    }
  });
  // Changing k or the metric re-runs the current query at once.
  form.addEventListener("change", (e) => { if (e.target !== input && queryDataUrl && !searchLive()) htmx.trigger(form, "submit"); });
  // With a live socket, the websocket carries the query instead of the form post.
  form.addEventListener("htmx:confirm", (e) => { if (searchLive()) e.preventDefault(); });
  document.querySelectorAll(".example").forEach((link) => link.addEventListener("click", async (e) => {
    if (!socket) return;  // follow the link: the server runs the example query
    e.preventDefault();
    const response = await fetch(link.dataset.imageUrl);
    if (response.ok) {
      exampleId = link.dataset.exampleId;
      choose(await response.blob());
    }
  }));
})();
