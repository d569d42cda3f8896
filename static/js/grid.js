// Glowworm grid: where a tile belongs, and moving through tiles with the keyboard.
// - Glowworm.grid.place(grid, tile) puts a tile where a reload would show it: in library order (its data-sort, the
//   page cursor of the photo) under its month heading, made if missing. A tile older than the pages loaded so far
//   is left out: it comes with its page. Uploads, pushes, re-renders that learn the date taken, and Undo use it.
// - Glowworm.grid.remove(ids) takes tiles out (moved to the trash, removed from an album), and empty headings.
// - The page's "N photos" line (#library-count) follows `glowworm:photo-added` and `glowworm:count-changed`.
// - One Tab stop for the whole grid (a roving tabindex): arrow keys, Home and End move, Space selects, Enter opens
//   (F stars: favorites.js).
(function () {
  "use strict";

  var TILE = "figure[data-sort]";

  function sortKey(tile) {
    var parts = (tile.dataset.sort || "0.0").split(".");
    return [Number(parts[0]), Number(parts[1])];
  }

  function isNewer(a, b) { return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]); }

  function monthHeading(month) {
    var heading = document.createElement("h2");
    heading.className = "month-head";
    heading.dataset.month = month;
    var parts = month.split("-");
    heading.textContent = new Date(Date.UTC(Number(parts[0]), Number(parts[1]) - 1, 1))
      .toLocaleDateString("en", { month: "long", year: "numeric", timeZone: "UTC" });
    return heading;
  }

  function isHeading(element) { return element.classList.contains("month-head"); }

  // Headings left without tiles go, and so does a month's second heading (newer photos loaded above a page that
  // began in the same month).
  function tidy(grid) {
    var month = null;
    grid.querySelectorAll(".month-head").forEach(function (heading) {
      var next = heading.nextElementSibling;
      while (next && !next.matches(TILE) && !isHeading(next) && next.id !== "load-more") { next = next.nextElementSibling; }
      if (!next || !next.matches(TILE) || next.dataset.month !== heading.dataset.month || heading.dataset.month === month) {
        heading.remove();
      } else {
        month = heading.dataset.month;
      }
    });
    rowEnds(grid);
  }

  // The justified layout's rows end at each month: a filler before every heading that follows tiles takes the
  // space left in that month's last row, so its photos keep the row height (the layout is CSS only).
  function rowEnds(grid) {
    grid.querySelectorAll(":scope > .row-end").forEach(function (end) { end.remove(); });
    grid.querySelectorAll(":scope > .month-head").forEach(function (heading) {
      var before = heading.previousElementSibling;
      while (before && !before.matches(TILE) && !isHeading(before)) { before = before.previousElementSibling; }
      if (!before || !before.matches(TILE)) { return; }
      var end = document.createElement("span");
      end.className = "row-end";
      end.setAttribute("aria-hidden", "true");
      grid.insertBefore(end, heading);
    });
  }

  function place(grid, tile) {
    var key = sortKey(tile);
    var month = tile.dataset.month;
    var older = null;
    var tiles = grid.querySelectorAll(TILE);
    for (var i = 0; i < tiles.length; i += 1) {
      if (tiles[i] !== tile && tiles[i].id !== tile.id && isNewer(key, sortKey(tiles[i]))) { older = tiles[i]; break; }
    }
    var more = grid.querySelector("#load-more");
    if (!older && more) {
      tile.remove();
      return false;
    }
    var anchor = older || more || null;
    if (older) {
      var above = older.previousElementSibling;
      if (above && isHeading(above) && above.dataset.month !== month) { anchor = above; }
    }
    if (anchor !== tile && tile.nextElementSibling !== anchor || tile.parentNode !== grid) {
      var hadFocus = tile.contains(document.activeElement);
      grid.insertBefore(tile, anchor);
      if (hadFocus) { tile.querySelector(".tile-link").focus(); }
    }
    var before = tile.previousElementSibling;
    while (before && !before.matches(TILE) && !isHeading(before)) { before = before.previousElementSibling; }
    if (!before || before.dataset.month !== month) { grid.insertBefore(monthHeading(month), tile); }
    tidy(grid);
    tabStops(grid);
    return true;
  }

  function remove(ids) {
    var grids = new Set();
    ids.forEach(function (id) {
      var tile = document.querySelector(".grid #photo-" + id);
      if (!tile) { return; }
      grids.add(tile.parentNode);
      var link = tile.querySelector(".tile-link");
      if (link && link.tabIndex === 0) {
        var next = neighbour(tile, 1) || neighbour(tile, -1);
        if (next) { next.querySelector(".tile-link").tabIndex = 0; }
      }
      tile.remove();
    });
    grids.forEach(function (grid) { tidy(grid); tabStops(grid); });
  }

  // --- the keyboard ------------------------------------------------------------------------------------------

  function links(grid) { return Array.prototype.slice.call(grid.querySelectorAll(TILE + " .tile-link")); }

  function neighbour(tile, step) {
    var all = Array.prototype.slice.call(tile.parentNode.querySelectorAll(TILE));
    return all[all.indexOf(tile) + step] || null;
  }

  // The tile whose link is the grid's one Tab stop: the last one focused, else the first.
  function tabStops(grid) {
    var all = links(grid);
    if (!all.length) { return; }
    var current = all.filter(function (link) { return link.tabIndex === 0 && link.hasAttribute("data-tab-stop"); })[0] || all[0];
    all.forEach(function (link) {
      link.tabIndex = link === current ? 0 : -1;
      link.toggleAttribute("data-tab-stop", link === current);
    });
    grid.querySelectorAll(".tile-select, .tile-star").forEach(function (box) { box.tabIndex = -1; });
  }

  function focusTile(grid, tile) {
    if (!tile) { return; }
    var link = tile.querySelector(".tile-link");
    links(grid).forEach(function (each) {
      each.tabIndex = each === link ? 0 : -1;
      each.toggleAttribute("data-tab-stop", each === link);
    });
    link.focus();
  }

  // The tile in the next (or previous) row, nearest in column: rows are read from the layout, so month headings
  // and any number of columns are fine.
  function verticalNeighbour(grid, tile, down) {
    var all = Array.prototype.slice.call(grid.querySelectorAll(TILE));
    var here = tile.getBoundingClientRect();
    var row = null;
    var best = null;
    var start = all.indexOf(tile);
    for (var i = start + (down ? 1 : -1); i >= 0 && i < all.length; i += down ? 1 : -1) {
      var box = all[i].getBoundingClientRect();
      if (down ? box.top <= here.top + 1 : box.top >= here.top - 1) { continue; }
      if (row === null) { row = box.top; }
      if (Math.abs(box.top - row) > 1) { break; }
      if (!best || Math.abs(box.left - here.left) < Math.abs(best.box.left - here.left)) { best = { tile: all[i], box: box }; }
    }
    return best ? best.tile : null;
  }

  function onKeydown(event) {
    var grid = event.currentTarget;
    var link = event.target.closest(".tile-link");
    if (!link || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var tile = link.closest(TILE);
    var all = Array.prototype.slice.call(grid.querySelectorAll(TILE));
    var target = null;
    switch (event.key) {
      case "ArrowRight": target = neighbour(tile, 1); break;
      case "ArrowLeft": target = neighbour(tile, -1); break;
      case "ArrowDown": target = verticalNeighbour(grid, tile, true); break;
      case "ArrowUp": target = verticalNeighbour(grid, tile, false); break;
      case "Home": target = all[0]; break;
      case "End": target = all[all.length - 1]; break;
      case " ":
        event.preventDefault();
        tile.dispatchEvent(new CustomEvent("glowworm:toggle-tile", { bubbles: true }));
        return;
      case "Enter":
        if (!link.hasAttribute("href")) {
          event.preventDefault();
          tile.dispatchEvent(new CustomEvent("glowworm:toggle-tile", { bubbles: true }));
        }
        return;
      default: return;
    }
    event.preventDefault();
    if (target) { focusTile(grid, target); }
  }

  document.querySelectorAll(".grid").forEach(function (grid) {
    tabStops(grid);
    grid.addEventListener("keydown", onKeydown);
    grid.addEventListener("focusin", function (event) {
      var link = event.target.closest(".tile-link");
      if (link && link.tabIndex !== 0) { focusTile(grid, link.closest(TILE)); }
    });
    // A tile swapped in by a push may now sort elsewhere (the render read its date taken): move it.
    grid.addEventListener("htmx:oobAfterSwap", function (event) {
      var tile = event.target;
      queueMicrotask(function () {
        var current = tile.id && document.getElementById(tile.id);
        if (current && current.parentNode === grid && current.matches(TILE)) { place(grid, current); }
      });
    });
    // htmx fires these once per element a swap inserts (a page brings 120 tiles): one tidy per swap, as a microtask,
    // so it runs before the page is painted (a page of newer photos brings its own heading for the month already
    // shown, and that heading is never seen twice).
    var tidying = false;
    function tidySoon() {
      if (tidying) { return; }
      tidying = true;
      queueMicrotask(function () {
        tidying = false;
        tidy(grid);
        tabStops(grid);
      });
    }
    grid.addEventListener("htmx:afterSwap", tidySoon);
    grid.addEventListener("htmx:afterSettle", tidySoon);
  });

  // Undo: the restored tiles go back where they were (by their sort key). A push may have put one back already.
  document.addEventListener("glowworm:tiles-restored", function (event) {
    var grid = document.querySelector("#grid[data-restorable]");
    var added = 0;
    event.detail.tiles.forEach(function (tile) {
      var existing = document.getElementById(tile.id);
      if (existing) {
        if (grid && existing.parentNode === grid) {
          existing.replaceWith(tile);
          htmx.process(tile);
        }
        return;
      }
      added += 1;
      if (grid && place(grid, tile)) { htmx.process(tile); }
    });
    document.dispatchEvent(new CustomEvent("glowworm:count-changed", { detail: { delta: added } }));
  });

  // The page's "N photos" line follows photos added (uploads, pushes), moved to the trash or back, without a reload.
  // `library`: the library's size when the server knows it (a filtered page's "M of N photos match").
  function count(delta, library) {
    var counter = document.getElementById("library-count");
    if (!delta && library === undefined) { return; }
    if (delta > 0) {
      ["empty-library", "no-matches"].forEach(function (id) {
        var empty = document.getElementById(id);
        if (empty) { empty.remove(); }
      });
    }
    var matches = document.getElementById("match-count");
    if (matches) {
      // "3 of 120 photos match": a photo that came in matches, and the library grew by it.
      var matched = Math.max(0, Number(matches.dataset.count || 0) + delta);
      library = library === undefined ? Math.max(0, Number(matches.dataset.total || 0) + delta) : library;
      matches.dataset.count = String(matched);
      matches.dataset.total = String(library);
      matches.textContent = matched.toLocaleString("en") + " of " + library.toLocaleString("en") +
        (library === 1 ? " photo" : " photos") + " match";
    }
    if (!counter) { return; }
    var total = Math.max(0, Number(counter.dataset.count || 0) + delta);
    counter.dataset.count = String(total);
    counter.textContent = total.toLocaleString("en") + (total === 1 ? " photo" : " photos");
  }
  document.addEventListener("glowworm:photo-added", function () { count(1); });
  document.addEventListener("glowworm:count-changed", function (event) { count(event.detail.delta, event.detail.library); });

  window.Glowworm = window.Glowworm || {};
  window.Glowworm.grid = { place: place, remove: remove, tabStops: tabStops };
})();
