// Glowworm selection: tick a tile's box (Space on a focused tile), shift-click for a range, or "Select all" for
// every photo the view shows (the server resolves them from the grid's data-scope, loaded or not); then act on the
// selection with the bulk form, without a reload. Once something is selected, or in select mode (the Select
// button, or a long press on a phone), a tap on a tile selects it instead of opening it.
(function () {
  "use strict";

  var grid = document.querySelector("#grid[data-selectable]");
  var form = document.getElementById("bulk-form");
  if (!grid || !form) { return; }
  var LONG_PRESS_MS = 500;
  var selectOnly = grid.hasAttribute("data-select-only");
  var selected = new Set();
  var all = null; // after "Select all": { excluded: Set }
  var lastClicked = null;
  var text = form.querySelector("[data-selected-text]");
  var modeButton = document.querySelector("[data-select-mode]");

  function total() { return Number(grid.dataset.total || 0); }

  function isSelected(id) { return all ? !all.excluded.has(id) : selected.has(id); }

  function size() { return all ? Math.max(0, total() - all.excluded.size) : selected.size; }

  function tileBoxes() { return Array.prototype.slice.call(grid.querySelectorAll(".tile-select")); }

  function showTile(tile) {
    var box = tile.querySelector(".tile-select");
    var on = isSelected(tile.dataset.photoId);
    if (box) { box.checked = on; }
    tile.classList.toggle("is-selected", on);
  }

  function restoreSelection() {
    grid.querySelectorAll("[data-photo-id]").forEach(showTile);
    showCount();
  }

  function inSelectMode() { return document.body.classList.contains("select-mode"); }

  function showCount() {
    var n = size();
    if (text) {
      var strong = document.createElement("strong");
      strong.setAttribute("data-selected-count", "");
      strong.textContent = n.toLocaleString("en");
      if (all && !all.excluded.size) {
        text.replaceChildren("All ", strong, " selected");
      } else if (all) {
        text.replaceChildren(strong, " of " + total().toLocaleString("en") + " selected");
      } else {
        text.replaceChildren(strong, " selected");
      }
    }
    document.body.classList.toggle("has-selection", n > 0 || inSelectMode() || form.classList.contains("bulk-bar--always"));
    form.querySelectorAll("[data-needs-one]").forEach(function (button) { button.disabled = n !== 1; });
  }

  function setSelected(id, on) {
    if (all) {
      if (on) { all.excluded.delete(id); } else { all.excluded.add(id); }
    } else if (on) {
      selected.add(id);
    } else {
      selected.delete(id);
    }
  }

  function clear() {
    selected.clear();
    all = null;
    restoreSelection();
  }

  function selectRange(toBox, on) {
    var boxes = tileBoxes();
    var from = boxes.indexOf(lastClicked);
    var to = boxes.indexOf(toBox);
    if (from === -1 || to === -1) { setSelected(toBox.value, on); return; }
    boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (box) { setSelected(box.value, on); });
  }

  function toggleTile(tile, shift) {
    var box = tile.querySelector(".tile-select");
    if (!box) { return; }
    var on = !isSelected(box.value);
    if (shift && lastClicked) { selectRange(box, on); } else { setSelected(box.value, on); }
    lastClicked = box;
    restoreSelection();
    Glowworm.announce((on ? "Selected. " : "Not selected. ") + size().toLocaleString("en") + " selected.");
  }

  // In the capture phase, so a tile click taken for selection is cancelled before lightbox.js sees it.
  grid.addEventListener("click", function (event) {
    var box = event.target.closest(".tile-select");
    if (box) {
      if (event.shiftKey && lastClicked) { selectRange(box, box.checked); } else { setSelected(box.value, box.checked); }
      lastClicked = box;
      restoreSelection();
      return;
    }
    var link = event.target.closest("[data-photo-link]");
    var tile = link && link.closest("[data-photo-id]");
    if (!tile || !tile.querySelector(".tile-select")) { return; }
    if (pressed === tile) { // the click that ends a long press
      event.preventDefault();
      pressed = null;
      return;
    }
    var keyboard = event.detail === 0; // Enter opens, Space selects (grid.js)
    if (selectOnly || event.shiftKey || ((size() > 0 || inSelectMode()) && !keyboard)) {
      event.preventDefault();
      toggleTile(tile, event.shiftKey);
    }
  }, true);

  grid.addEventListener("glowworm:toggle-tile", function (event) { toggleTile(event.target, false); });

  // A long press on a touch screen: select mode, with this photo selected.
  var pressTimer = null;
  var pressed = null;
  grid.addEventListener("touchstart", function (event) {
    var tile = event.target.closest("[data-photo-id]");
    if (!tile || event.touches.length !== 1) { return; }
    pressTimer = window.setTimeout(function () {
      pressed = tile;
      setMode(true);
      if (!isSelected(tile.dataset.photoId)) { toggleTile(tile, false); }
      if (navigator.vibrate) { navigator.vibrate(10); }
    }, LONG_PRESS_MS);
  }, { passive: true });
  ["touchend", "touchmove", "touchcancel"].forEach(function (type) {
    grid.addEventListener(type, function () { window.clearTimeout(pressTimer); }, { passive: true });
  });
  grid.addEventListener("contextmenu", function (event) {
    if (pressed || event.target.closest("[data-photo-id]") && inSelectMode()) { event.preventDefault(); }
  });

  function setMode(on) {
    document.body.classList.toggle("select-mode", on);
    if (modeButton) {
      modeButton.setAttribute("aria-pressed", on ? "true" : "false");
      modeButton.textContent = on ? "Done" : "Select";
    }
    showCount();
  }
  if (modeButton) {
    modeButton.hidden = false;
    modeButton.addEventListener("click", function () {
      var on = !inSelectMode();
      if (!on) { clear(); }
      setMode(on);
    });
  }

  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-select-all]")) {
      all = { excluded: new Set() };
      selected.clear();
      restoreSelection();
      Glowworm.announce("All " + total().toLocaleString("en") + " photos selected.");
    }
    if (event.target.closest("[data-select-none]")) {
      clear();
      setMode(false);
      Glowworm.announce("Selection cleared.");
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && size() && !document.querySelector("dialog[open], .viewer")) {
      clear();
      setMode(false);
    }
  });

  // Popovers of the toolbar (<details>): one open at a time, closed by a click elsewhere.
  document.addEventListener("click", function (event) {
    form.querySelectorAll("details[data-popover][open]").forEach(function (details) {
      if (!details.contains(event.target)) { details.open = false; }
    });
  });
  form.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.open) { return; }
    form.querySelectorAll("details[data-popover][open]").forEach(function (other) { if (other !== details) { other.open = false; } });
    var first = details.querySelector("select, input[type=text]");
    if (first) { first.focus(); }
  }, true);

  // --- acting on the selection -------------------------------------------------------------------------------

  function selectionFields(body) {
    body.delete("photo");
    if (all) {
      body.set("scope", grid.dataset.scope);
      body.set("exclude", Array.from(all.excluded).join(","));
    } else {
      body.set("ids", Array.from(selected).join(","));
    }
    return body;
  }

  // The tiles the action took off this page (moved to the trash, out of the album, restored, purged).
  function takenIds() {
    if (!all) { return Array.from(selected); }
    return tileBoxes().map(function (box) { return box.value; }).filter(function (id) { return !all.excluded.has(id); });
  }

  // A zip download, and the album picker's Add (which leads back to the album), are real form posts: through a
  // form of their own, with the selection as ids or scope.
  function submitNatively(submitter) {
    var target = document.createElement("form");
    target.method = "post";
    target.setAttribute("action", actionOf(submitter));
    target.hidden = true;
    selectionFields(new FormData(form, submitter)).forEach(function (value, name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      target.appendChild(input);
    });
    document.body.appendChild(target);
    target.submit();
    target.remove();
  }

  // A form's `action` property is its field named "action" here (a button): read the attributes.
  function actionOf(submitter) {
    return (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action");
  }

  function plural(n) { return n.toLocaleString("en") + " photo" + (n === 1 ? "" : "s"); }

  function confirmFirst(action) {
    var n = size();
    if (action === "purge") {
      return Glowworm.confirm({
        title: "Delete " + plural(n) + " forever?",
        text: "They are removed with their files. This cannot be undone.",
        ok: "Delete forever"
      });
    }
    if (action === "delete" && all) {
      return Glowworm.confirm({
        title: "Move all " + plural(n) + " to the trash?",
        text: "They can be restored from the trash for a while.",
        ok: "Move to trash"
      });
    }
    return Promise.resolve(true);
  }

  var TAKES_TILES = { delete: true, remove: true, restore: true, purge: true };

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var submitter = event.submitter;
    var action = submitter ? submitter.value : "";
    if (!size()) { return; }
    if (action === "download" || form.hasAttribute("data-navigates")) { submitNatively(submitter); return; }
    confirmFirst(action).then(function (yes) {
      if (!yes) { return; }
      var body = selectionFields(new FormData(form, submitter));
      if (action === "purge") { body.set("confirmed", "1"); }
      var taken = takenIds();
      var count = size();
      form.setAttribute("aria-busy", "true");
      Glowworm.post(actionOf(submitter), body).then(function (answer) {
        form.removeAttribute("aria-busy");
        if (!answer.ok) {
          Glowworm.showFieldErrors(form, answer.content);
          return;
        }
        Glowworm.showFieldErrors(form, answer.content); // clears old ones
        form.querySelectorAll("details[data-popover][open]").forEach(function (details) { details.open = false; });
        var created = answer.content.querySelector("[data-created-album]");
        var albums = document.getElementById("bulk-album");
        if (created && albums) {
          var option = document.createElement("option");
          option.value = created.getAttribute("href").split("/").filter(Boolean).pop();
          option.textContent = created.textContent;
          albums.appendChild(option);
          form.querySelector("[name=name]").value = "";
        }
        if (TAKES_TILES[action]) {
          Glowworm.grid.remove(taken);
          document.dispatchEvent(new CustomEvent("glowworm:count-changed", { detail: { delta: -count } }));
          grid.dataset.total = String(Math.max(0, total() - count));
        }
        clear();
        setMode(false);
      });
    });
  });

  // A tile swapped in (a push, the next page, a retry) or added shows whether it is selected; the selection itself
  // did not change, so no other tile is touched.
  function showSwappedTile(event) {
    if (event.target.dataset && event.target.dataset.photoId) { showTile(event.target); }
  }
  grid.addEventListener("htmx:afterSettle", function (event) {
    showSwappedTile(event);
    // A next page: its tiles come selected after "Select all".
    if (all) { grid.querySelectorAll("[data-photo-id]").forEach(showTile); }
  });
  grid.addEventListener("glowworm:photo-added", showSwappedTile);
  // Until a swapped element settles, htmx gives it the class of the one it replaced (for CSS transitions), then puts
  // its own back. A pushed tile settles once the whole websocket message is swapped, in the same task, and fires no
  // afterSettle: mark it after that task.
  grid.addEventListener("htmx:oobAfterSwap", function (event) {
    queueMicrotask(function () { showSwappedTile(event); });
  });

  // After the page is parsed, also over what the browser restored into the checkboxes (back/forward).
  tileBoxes().forEach(function (box) { if (box.checked) { selected.add(box.value); } });
  restoreSelection();
})();
