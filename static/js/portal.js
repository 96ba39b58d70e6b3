// Pieces every search page shares, loaded by base.html before the page's own script.
window.Portal = {
  // Follow the page's htmx websocket: onChange(socket) on open, onChange(null) on close or
  // error, with the live indicator saying which.
  trackLiveSocket(indicator, onChange) {
    const setLive = (socket) => {
      indicator.textContent = socket ? "live results" : "offline: results load with the page";
      indicator.classList.toggle("live", Boolean(socket));
      indicator.classList.toggle("offline", !socket);
      onChange(socket);
    };
    document.body.addEventListener("htmx:wsOpen", (e) => setLive(e.detail.socketWrapper));
    document.body.addEventListener("htmx:wsClose", () => setLive(null));
    document.body.addEventListener("htmx:wsError", () => setLive(null));
  },

  readAsDataUrl: (blob) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  }),

  // An image chosen, dropped on ``zone`` or pasted anywhere: onFile(file), with the file put
  // in ``input`` too so that a plain form post carries it.
  imageDropzone({ input, zone, onFile }) {
    input.addEventListener("change", () => { if (input.files[0]) onFile(input.files[0]); });
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
  },
};
