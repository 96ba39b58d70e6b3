// Degraded-query page. With a live websocket every change (a file, an example, a slider
// step) sends a {"type": "degrade"} message and the three rows stream in (htmx's ws
// extension swaps the fragments; the server drops a query as soon as a newer one arrives).
// Without one the form posts through htmx; without JavaScript it is a plain form post,
// every degradation's sliders shown.
(() => {
  const form = document.getElementById("degraded-form");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const zone = document.getElementById("dropzone");
  const preview = document.getElementById("dropzone-preview");
  const indicator = document.getElementById("live-indicator");
  const exampleField = document.getElementById("id_example");
  const choice = document.getElementById("id_degradation");
  let socket = null;
  let imageDataUrl = null;
  let pending = false;

  Portal.trackLiveSocket(indicator, (live) => { socket = live; });

  // Only the chosen degradation's sliders are shown (all of them are, without JavaScript).
  const showParams = () => form.querySelectorAll("fieldset.params").forEach((set) => {
    set.hidden = set.dataset.degradation !== choice.value;
  });
  showParams();

  const hasImage = () => Boolean(imageDataUrl || exampleField.value);

  const message = () => {
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

  // Send the current query (at most once per animation frame while a slider is dragged);
  // false when there is no live socket.
  const queryLive = () => {
    if (!socket || !hasImage()) return false;
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => { pending = false; socket.send(JSON.stringify(message())); });
    }
    return true;
  };
  const query = () => { if (hasImage() && !queryLive()) htmx.trigger(form, "submit"); };

  const choose = async (blob) => {
    imageDataUrl = await Portal.readAsDataUrl(blob);
    exampleField.value = "";
    preview.src = imageDataUrl;
    preview.hidden = false;
    form.querySelector("#id_image_data").value = input.files.length ? "" : imageDataUrl;
    query();
  };

  Portal.imageDropzone({ input, zone, onFile: choose });
  document.querySelectorAll(".example").forEach((link) => link.addEventListener("click", (e) => {
    e.preventDefault();
    imageDataUrl = null;
    input.value = "";
    form.querySelector("#id_image_data").value = "";
    exampleField.value = link.dataset.exampleId;
    preview.src = link.dataset.imageUrl;
    preview.hidden = false;
    query();
  }));

  form.querySelectorAll('input[type="range"]').forEach((slider) => slider.addEventListener("input", () => {
    slider.parentElement.querySelector("output").textContent = slider.value;
    queryLive();  // dragging: live only; the form posts when the slider is let go (change)
  }));
  choice.addEventListener("change", showParams);
  form.addEventListener("change", (e) => { if (e.target !== input) query(); });
  // With a live socket, the websocket carries the query instead of the form post.
  form.addEventListener("htmx:confirm", (e) => { if (queryLive()) e.preventDefault(); });
})();
