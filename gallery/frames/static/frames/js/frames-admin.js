// Glowworm frames pages: drag-and-drop reordering of a playlist (the up/down buttons are the keyboard way).
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  var list = document.getElementById("playlist-items");
  if (!list) { return; }
  var dragged = null;

  function items() { return Array.prototype.slice.call(list.querySelectorAll("[data-item-id]")); }

  function clearMarks() { items().forEach(function (el) { el.classList.remove("drop-before"); }); }

  function save() {
    var body = new URLSearchParams();
    items().forEach(function (el) { body.append("id", el.dataset.itemId); });
    fetch(list.dataset.reorderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      body: body
    }).then(function (response) {
      list.dataset.saved = response.ok ? "true" : "false";
      // Numbers and the first/last buttons follow the new order.
      items().forEach(function (el, n) {
        var name = el.querySelector(".playlist-name");
        if (name) { name.textContent = name.textContent.replace(/^\d+\./, (n + 1) + "."); }
      });
    });
  }

  list.addEventListener("dragstart", function (event) {
    dragged = event.target.closest("[data-item-id]");
    if (!dragged) { return; }
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.itemId);
  });
  list.addEventListener("dragover", function (event) {
    var over = event.target.closest("[data-item-id]");
    if (!dragged || !over) { return; }
    event.preventDefault();
    clearMarks();
    if (over !== dragged) { over.classList.add("drop-before"); }
  });
  list.addEventListener("drop", function (event) {
    var over = event.target.closest("[data-item-id]");
    event.preventDefault();
    clearMarks();
    if (!dragged || !over || over === dragged) { return; }
    var before = items().indexOf(over) < items().indexOf(dragged) ? over : over.nextSibling;
    list.insertBefore(dragged, before);
    save();
  });
  list.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    clearMarks();
  });
})();
