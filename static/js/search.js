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

  Portal.trackLiveSocket(indicator, (live) => { socket = live; });

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
    queryDataUrl = await Portal.readAsDataUrl(blob);
    preview.src = queryDataUrl;
    preview.hidden = false;
    // A fetched example or pasted image is not in the file input: the fallback post sends it as data.
    form.querySelector("#id_image_data").value = input.files.length ? "" : queryDataUrl;
    if (!searchLive()) htmx.trigger(form, "submit");
  };

  Portal.imageDropzone({ input, zone, onFile: (file) => { exampleId = null; choose(file); } });
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
