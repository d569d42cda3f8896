// Glowworm selection: click a tile's checkbox, shift-click for a range, "Select all" for every tile in view, then act
// on the selection with the bulk form. Once something is selected, clicking a tile selects it instead of opening it.
(function () {
  "use strict";

  var grid = document.querySelector("#grid[data-selectable]");
  var form = document.getElementById("bulk-form");
  if (!grid || !form) { return; }
  var count = form.querySelector("[data-selected-count]");
  var selected = new Set();
  var lastClicked = null;

  function tileBoxes() { return Array.prototype.slice.call(grid.querySelectorAll(".tile-select")); }

  function showTile(tile) {
    var box = tile.querySelector(".tile-select");
    if (box) { box.checked = selected.has(box.value); }
    tile.classList.toggle("is-selected", selected.has(tile.dataset.photoId));
  }

  // After the person changed the selection: every tile in view, and the count.
  function restoreSelection() {
    grid.querySelectorAll("[data-photo-id]").forEach(showTile);
    showCount();
  }

  function showCount() {
    if (count) { count.textContent = String(selected.size); }
    document.body.classList.toggle("has-selection", selected.size > 0);
  }

  function setSelected(box, on) {
    if (on) { selected.add(box.value); } else { selected.delete(box.value); }
  }

  function selectRange(toBox, on) {
    var boxes = tileBoxes();
    var from = boxes.indexOf(lastClicked);
    var to = boxes.indexOf(toBox);
    if (from === -1 || to === -1) { setSelected(toBox, on); return; }
    boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (box) { setSelected(box, on); });
  }

  // In the capture phase, so a tile click taken for selection is cancelled before lightbox.js sees it.
  grid.addEventListener("click", function (event) {
    var box = event.target.closest(".tile-select");
    if (box) {
      if (event.shiftKey && lastClicked) { selectRange(box, box.checked); } else { setSelected(box, box.checked); }
      lastClicked = box;
      restoreSelection();
      return;
    }
    var link = event.target.closest("[data-photo-link]");
    var tile = link && link.closest("[data-photo-id]");
    var tileBox = tile && tile.querySelector(".tile-select");
    if (tileBox && (selected.size > 0 || event.shiftKey)) {
      event.preventDefault();
      var on = !selected.has(tileBox.value);
      if (event.shiftKey && lastClicked) { selectRange(tileBox, on); } else { setSelected(tileBox, on); }
      lastClicked = tileBox;
      restoreSelection();
    }
  }, true);

  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-select-all]")) {
      tileBoxes().forEach(function (each) { selected.add(each.value); });
      restoreSelection();
    }
    if (event.target.closest("[data-select-none]")) {
      selected.clear();
      restoreSelection();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && selected.size) {
      selected.clear();
      restoreSelection();
    }
  });

  form.addEventListener("submit", function (event) {
    var action = event.submitter ? event.submitter.value : "";
    if (!selected.size) {
      event.preventDefault();
      return;
    }
    // Photos selected on this page but no longer shown (scrolled pages replaced) still count.
    form.querySelectorAll("input[data-extra-selection]").forEach(function (input) { input.remove(); });
    var shown = new Set(tileBoxes().map(function (box) { return box.value; }));
    selected.forEach(function (id) {
      if (shown.has(id)) { return; }
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "photo";
      input.value = id;
      input.setAttribute("data-extra-selection", "");
      form.appendChild(input);
    });
    var confirmed = form.querySelector("input[name=confirmed]");
    if (confirmed) { confirmed.remove(); }
    if (action === "delete") {
      var n = selected.size;
      if (!window.confirm("Delete " + n + " photo" + (n === 1 ? "" : "s") + "? They are removed from the library and every album.")) {
        event.preventDefault();
        return;
      }
      confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "1";
      form.appendChild(confirmed);
    }
  });

  // A tile swapped in (a push, the next page, a retry) or added shows whether it is selected; the selection itself
  // did not change, so no other tile is touched.
  function showSwappedTile(event) {
    if (event.target.dataset && event.target.dataset.photoId) { showTile(event.target); }
  }
  grid.addEventListener("htmx:afterSettle", showSwappedTile);
  grid.addEventListener("glowworm:photo-added", showSwappedTile);
  // Until a swapped element settles, htmx gives it the class of the one it replaced (for CSS transitions), then puts
  // its own back. A pushed tile settles once the whole websocket message is swapped, in the same task, and fires no
  // afterSettle: mark it after that task.
  grid.addEventListener("htmx:oobAfterSwap", function (event) {
    queueMicrotask(function () { showSwappedTile(event); });
  });

  // After the page is parsed, also over what the browser restored into the checkboxes (back/forward).
  document.addEventListener("DOMContentLoaded", restoreSelection);
})();
