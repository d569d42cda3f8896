// Glowworm lightbox (the photo view): arrow keys and swipes browse, Escape returns to where the photo was opened
// from, and the stage reloads once a re-rendered photo (after a rotation) is ready.
(function () {
  "use strict";

  var RETURN_KEY = "glowworm:return";

  // Opening a photo from a grid: remember where from, so Escape goes back there; in an album, browse the album.
  var grid = document.getElementById("grid");
  if (grid) {
    grid.addEventListener("click", function (event) {
      var link = event.target.closest("[data-photo-link]");
      if (!link || event.defaultPrevented) { return; } // a click taken for selection (selection.js)
      var tile = link.closest("[data-photo-id]");
      try { sessionStorage.setItem(RETURN_KEY, location.pathname + location.search + "#" + (tile ? tile.id : "")); } catch (error) { /* private mode */ }
      var album = grid.dataset.album;
      if (album && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        location.assign(link.getAttribute("href") + "?album=" + encodeURIComponent(album));
      }
    });
  }

  var main = document.querySelector("[data-lightbox]");
  if (!main) { return; }

  function closeLightbox() {
    var target = null;
    try { target = sessionStorage.getItem(RETURN_KEY); } catch (error) { /* private mode */ }
    location.assign(target || main.dataset.closeUrl || "/");
  }

  function go(direction) {
    var link = main.querySelector("[data-nav='" + direction + "']");
    if (link) { location.assign(link.href); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") { return; }
    if (event.key === "ArrowLeft") { event.preventDefault(); go("prev"); }
    if (event.key === "ArrowRight") { event.preventDefault(); go("next"); }
    if (event.key === "Escape") { event.preventDefault(); closeLightbox(); }
  });

  main.addEventListener("click", function (event) {
    if (event.target.closest("[data-close]")) {
      event.preventDefault();
      closeLightbox();
    }
  });

  var touchStart = null;
  document.addEventListener("touchstart", function (event) {
    if (event.touches.length !== 1) { return; }
    touchStart = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  document.addEventListener("touchend", function (event) {
    if (!touchStart) { return; }
    var touch = event.changedTouches[0];
    var dx = touch.clientX - touchStart.x;
    var dy = touch.clientY - touchStart.y;
    touchStart = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) { go(dx > 0 ? "prev" : "next"); }
  });

  // While the photo re-renders (after a rotation), its tile is pushed here; when it is ready, reload the stage.
  var stageArea = main.querySelector(".lightbox-main");
  function refreshStageWhenReady() {
    var stage = document.getElementById("photo-stage");
    var tile = stageArea.querySelector(".lightbox-status [data-photo-id]");
    if (!stage || !tile || stage.dataset.status === "ready" || tile.dataset.status !== "ready" || stage.dataset.refreshing) { return; }
    stage.dataset.refreshing = "1";
    htmx.ajax("GET", location.pathname + location.search, { target: "#photo-stage", swap: "outerHTML" });
  }
  stageArea.addEventListener("htmx:oobAfterSwap", refreshStageWhenReady);
  stageArea.addEventListener("htmx:afterSettle", refreshStageWhenReady);
})();
