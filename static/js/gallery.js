// Glowworm gallery: drop-to-upload and live-update catch-up. No inline scripts (CSP).
(function () {
  "use strict";

  // Pushes are hints: on every (re)connect, ask for what changed while the socket was away.
  document.addEventListener("htmx:wsOpen", function (event) {
    var pending = Array.prototype.map.call(
      document.querySelectorAll("[data-photo-id][data-status='queued'], [data-photo-id][data-status='processing']"),
      function (el) { return Number(el.dataset.photoId); }
    );
    var after = 0;
    document.querySelectorAll("#grid [data-photo-id]").forEach(function (el) {
      after = Math.max(after, Number(el.dataset.photoId));
    });
    var grid = document.getElementById("grid");
    var message = { sync: { pending: pending } };
    if (grid) { message.sync.after = after; }
    event.detail.socketWrapper.send(JSON.stringify(message));
  });

  // A pushed photo that this page does not show yet (uploaded elsewhere): add it to the top of the grid.
  document.body && document.body.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var element = event.detail.content;
    var grid = document.getElementById("grid");
    if (!grid || !element || !element.dataset || !element.dataset.photoId) { return; }
    element.removeAttribute("hx-swap-oob");
    grid.insertBefore(element, grid.firstChild);
    htmx.process(element);
    var empty = document.getElementById("empty-library");
    if (empty) { empty.remove(); }
  });

  // Drop files anywhere on the page to upload them through the form.
  var dragDepth = 0;
  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }
  document.addEventListener("dragenter", function (event) {
    if (!hasFiles(event) || !document.getElementById("upload-form")) { return; }
    dragDepth += 1;
    document.documentElement.classList.add("dragging");
  });
  document.addEventListener("dragleave", function () {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) { document.documentElement.classList.remove("dragging"); }
  });
  document.addEventListener("dragover", function (event) {
    if (hasFiles(event) && document.getElementById("upload-form")) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    var form = document.getElementById("upload-form");
    if (!form || !hasFiles(event)) { return; }
    event.preventDefault();
    dragDepth = 0;
    document.documentElement.classList.remove("dragging");
    var input = document.getElementById("upload-input");
    input.files = event.dataTransfer.files;
    htmx.trigger(form, "submit");
  });

  // Choosing files uploads them at once; the button stays for keyboard users and no-JS.
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "upload-input" && event.target.files.length) {
      htmx.trigger(document.getElementById("upload-form"), "submit");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "upload-form") {
      event.detail.elt.reset();
    }
  });
})();
