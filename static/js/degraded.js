// Degraded-query page: every change (a file, an example, a slider step) runs the query
// live and the three rows stream in (static/js/live.js); without JavaScript it is a plain
// form post, every degradation's sliders shown.
(() => {
  const form = document.getElementById("degraded-form");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const preview = document.getElementById("dropzone-preview");
  const exampleField = document.getElementById("id_example");
  const dataField = document.getElementById("id_image_data");
  const choice = document.getElementById("id_degradation");
  let imageDataUrl = null;
  let pending = false;

  const hasImage = () => Boolean(imageDataUrl || exampleField.value);
  const message = () => {
    if (!hasImage()) return null;
    const data = new FormData(form);
    const params = {};
    form.querySelectorAll(`fieldset.params[data-degradation="${choice.value}"] input`).forEach((el) => {
      params[el.name.slice(choice.value.length + 1)] = el.value;
    });
    return {
      type: "degrade", image: imageDataUrl, example: imageDataUrl ? null : exampleField.value || null,
      degradation: choice.value, params, seed: data.get("seed"), k: data.get("k"), metric: data.get("metric"),
      descriptor: data.get("descriptor"), gallery: data.get("gallery"),
    };
  };
  const live = Live.page({
    form, results: "degraded-results", message,
    empty: "Choose an image: it is searched as it is, degraded, and enhanced, each with its own row of results.",
  });

  // Only the chosen degradation's sliders are shown (all of them are, without JavaScript).
  const showParams = () => form.querySelectorAll("fieldset.params").forEach((set) => {
    set.hidden = set.dataset.degradation !== choice.value;
  });
  showParams();

  const query = (history) => { if (hasImage()) live.run(history); };
  // While a slider is dragged: at most one live query per animation frame (the form posts
  // when the slider is let go, on change).
  const dragged = () => {
    if (!live.socket || !hasImage() || pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; live.history = "replace"; live.sendLive(); });
  };

  const choose = async (blob) => {
    imageDataUrl = await Live.readAsDataUrl(blob);
    exampleField.value = "";
    Live.markExample(null);
    Live.showPreview(preview, imageDataUrl);
    dataField.value = input.files.length ? "" : imageDataUrl;
    query("push");
  };

  Live.imageDropzone({ input, zone: document.getElementById("dropzone"), onFile: choose });
  document.querySelectorAll(".example").forEach((link) => link.addEventListener("click", (e) => {
    e.preventDefault();
    imageDataUrl = null;
    input.value = "";
    dataField.value = "";
    exampleField.value = link.dataset.exampleId;
    Live.markExample(link.dataset.exampleId);
    Live.showPreview(preview, link.dataset.imageUrl);
    query("push");
  }));

  form.querySelectorAll('input[type="range"]').forEach((slider) => slider.addEventListener("input", () => {
    slider.parentElement.querySelector("output").textContent = slider.value;
    dragged();
  }));
  choice.addEventListener("change", showParams);
  form.addEventListener("change", (e) => { if (e.target !== input) query("replace"); });

  // Opened from a query's link: an uploaded image comes back from the query store, so that a
  // tweak re-runs it (an example needs nothing: its id is in the form).
  const linked = live.state.queryImage;
  if (linked && !exampleField.value) {
    fetch(linked).then((r) => (r.ok ? r.blob() : Promise.reject(r.status))).then(async (blob) => {
      imageDataUrl = await Live.readAsDataUrl(blob);
      dataField.value = imageDataUrl;
      Live.showPreview(preview, imageDataUrl);
    }).catch(() => {});
  } else if (exampleField.value) {
    const link = document.querySelector(`.example[data-example-id="${exampleField.value}"]`);
    Live.showPreview(preview, link ? link.dataset.imageUrl : linked);
  }
})();
