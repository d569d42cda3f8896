// Glowworm live updates: the websocket catch-up, and pushed photos this page does not show yet. Pushes are hints: on every (re)connect the page asks for what changed while the socket was away.
// A tile new to the grid (pushed here, or placed by an upload) announces itself with the bubbling DOM event
// `glowworm:photo-added`; an upload tile waiting in the grid with `glowworm:upload-queued`.
(function () {
  "use strict";

  var main = document.querySelector("main[data-live]");
  if (!main) { return; }
  var grid = document.getElementById("grid");

  // Also on the frames page: its socket answers any message with the status of every frame.
  main.addEventListener("htmx:wsOpen", function (event) {
    var pending = Array.prototype.map.call(
      document.querySelectorAll("[data-photo-id][data-status='queued'], [data-photo-id][data-status='processing']"),
      function (el) { return Number(el.dataset.photoId); }
    );
    // `after`: the newest photo this page has. A page that takes no new photos asks for none (after the largest
    // id a script can write), rather than for the newest 500 of the whole library.
    var message = { sync: { pending: pending, after: Number.MAX_SAFE_INTEGER } };
    if (grid && grid.hasAttribute("data-accept-new")) {
      var after = Number(grid.dataset.after || 0);
      grid.querySelectorAll("[data-photo-id]").forEach(function (el) { after = Math.max(after, Number(el.dataset.photoId)); });
      message.sync.after = after;
    }
    event.detail.socketWrapper.send(JSON.stringify(message));
  });

  if (!grid) { return; }

  // A pushed photo that this page does not show yet (uploaded elsewhere, or back from the trash): into the library
  // where a reload would show it (grid.js), unless that is further down than the pages loaded so far.
  function add(tile) {
    if (document.getElementById(tile.id) || !Glowworm.grid.place(grid, tile)) { return; }
    htmx.process(tile);
    tile.dispatchEvent(new CustomEvent("glowworm:photo-added", { bubbles: true }));
  }

  // A filtered page (search, chips) asks the server which pushed photos match its filters: a push carries no
  // filters, and a photo may match only once its render has read the camera or the date. One question at a time,
  // so a later answer (a newer state) is never overtaken by an earlier one; a tile it shows in a newer state than
  // the grid's replaces it.
  var filtered = grid.dataset.filtered;
  var asking = [];
  var busy = false;
  function ask(photoId) {
    if (asking.indexOf(photoId) < 0) { asking.push(photoId); }
    if (!busy) { busy = true; window.setTimeout(send, 100); }
  }
  function matched(tile) {
    var existing = document.getElementById(tile.id);
    if (!existing) { add(tile); return; }
    if (existing.parentNode !== grid || existing.dataset.status === tile.dataset.status) { return; }
    existing.replaceWith(tile);
    htmx.process(tile);
    Glowworm.grid.place(grid, tile);
  }
  function send() {
    var ids = asking.splice(0, 500);
    var url = filtered + (filtered.indexOf("?") < 0 ? "?" : "&") + "photos=" + ids.join(",");
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { return; }
        return response.text().then(function (html) {
          Glowworm.parse(html).querySelectorAll("figure[data-photo-id]").forEach(matched);
          // New photos that do not match still grow the library: "M of N photos match" takes N from the answer.
          var library = response.headers.get("Glowworm-Library-Count");
          if (library === null) { return; }
          document.dispatchEvent(new CustomEvent("glowworm:count-changed", { detail: { delta: 0, library: Number(library) } }));
        });
      })
      .catch(function () { /* a hint lost: the next push for the photo, or a reload, shows it */ })
      .finally(function () {
        busy = asking.length > 0;
        if (busy) { window.setTimeout(send, 100); }
      });
  }

  if (grid.hasAttribute("data-accept-new")) {
    document.body.addEventListener("htmx:oobErrorNoTarget", function (event) {
      var element = event.detail.content;
      if (!element || !element.dataset || !element.dataset.photoId || !element.matches("figure")) { return; }
      element.removeAttribute("hx-swap-oob");
      if (filtered) {
        ask(Number(element.dataset.photoId));
      } else {
        add(element);
      }
    });
  }

  // A tile can arrive twice (a push, then the page of the library that holds it): keep the first one. htmx settles
  // each swapped-in element separately, so this looks at that one tile, by id.
  grid.addEventListener("htmx:afterSettle", function (event) {
    var tile = event.target;
    if (tile.dataset && tile.dataset.photoId && document.getElementById(tile.id) !== tile) { tile.remove(); }
  });

  grid.addEventListener("glowworm:upload-queued", function () {
    var empty = document.getElementById("empty-library");
    if (empty) { empty.remove(); }
  });
})();
