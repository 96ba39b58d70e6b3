// The descriptor lab over the search websocket: the query's head first, then one column per
// descriptor as each finishes. Without a socket the links and the form work as plain requests.
(function () {
  "use strict";
  const page = document.getElementById("lab-page");
  if (!page || !("WebSocket" in window)) return;
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
})();
