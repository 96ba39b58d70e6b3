// Search page: choose, drop or paste an image, or pick an example; the query runs live
// (static/js/live.js: the websocket, else the form's htmx post; a plain post without JavaScript).
(() => {
  const form = document.getElementById("search-form");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const dataField = form.querySelector("#id_image_data");
  const preview = document.getElementById("dropzone-preview");
  let queryDataUrl = null;
  let exampleId = null;  // set while the query is a test-set example (its true class is known)

  const live = Live.page({
    form, results: "search-results",
    empty: "Results appear here: the nearest gallery items, their distances, and why they match.",
    message: () => {
      if (!queryDataUrl) return null;
      const data = new FormData(form);
      return { type: "search", image: queryDataUrl, example: exampleId, k: data.get("k"), metric: data.get("metric"), descriptor: data.get("descriptor"), gallery: data.get("gallery") };
    },
  });

  const choose = async (blob, history = "push") => {
    queryDataUrl = await Live.readAsDataUrl(blob);
    Live.showPreview(preview, queryDataUrl);
    Live.markExample(exampleId);
    // A fetched example or pasted image is not in the file input: the fallback post sends it as data.
    dataField.value = input.files.length ? "" : queryDataUrl;
    live.run(history);
  };
  const fetchQuery = async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.blob();
  };

  Live.imageDropzone({ input, zone: document.getElementById("dropzone"), onFile: (file) => { exampleId = null; choose(file); } });
  // Changing k, the metric or the gallery re-runs the current query at once.
  form.addEventListener("change", (e) => { if (e.target !== input && queryDataUrl) live.run("replace"); });
  document.querySelectorAll(".example").forEach((link) => link.addEventListener("click", async (e) => {
    if (!live.socket) return;  // follow the link: the server runs the example query
    e.preventDefault();
    exampleId = link.dataset.exampleId;
    choose(await fetchQuery(link.dataset.imageUrl));
  }));

  // A page opened from a query's link shows its results already: hold its image so that a
  // tweak re-runs it.
  if (live.state.queryImage) {
    exampleId = new URLSearchParams(window.location.search).get("example");
    fetchQuery(live.state.queryImage).then(async (blob) => {
      queryDataUrl = await Live.readAsDataUrl(blob);
      dataField.value = queryDataUrl;
      Live.showPreview(preview, queryDataUrl);
    }).catch(() => {});
  }
})();
