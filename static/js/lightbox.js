// Glowworm lightbox (the photo view). Opened from a grid it is an overlay over the page (history.pushState to
// /photos/<id>/), so Escape, × or Back return to the same scroll position with the pages loaded so far; the URL
// still works on its own, and on reload, as a full page. Arrow keys and swipes fetch the next photo's fragment
// (neighbours are prefetched), without a page load. Double-click, the wheel, + and −, or two fingers zoom; a
// zoomed photo pans by dragging. Its forms (albums, rotate, retry, move to trash) are sent with fetch and the
// fragment reloads; the stage reloads by itself once a re-rendered photo (after a rotation) is ready.
(function () {
  "use strict";

  var RETURN_KEY = "glowworm:return";
  var MAX_ZOOM = 8;
  var grid = document.getElementById("grid");
  var page = document.querySelector("main[data-lightbox]"); // the photo view as a page
  var root = null; // the element holding the article: the overlay, or the page's <main>
  var overlay = null;
  var pushed = false; // the overlay added a history entry, which closing takes back
  var savedScroll = 0;
  var openedFrom = null; // the tile clicked
  var cache = new Map(); // fragment URL -> Promise of HTML
  var loading = null;

  function article() { return root && root.querySelector("article.lightbox"); }

  function fragment(url) {
    if (!cache.has(url)) {
      cache.set(url, fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true", "HX-Target": "viewer" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .catch(function (error) { cache.delete(url); throw error; }));
    }
    return cache.get(url);
  }

  // The status tile inside the overlay must not share its id with the grid's tile: pushes are swapped by id.
  function renameStatusTile(container) {
    if (!overlay) { return; }
    container.querySelectorAll(".lightbox-status [id^='photo-']").forEach(function (tile) {
      tile.id = "viewer-" + tile.id;
      tile.removeAttribute("data-photo-id");
    });
  }

  function show(html) {
    var content = Glowworm.parse(html);
    var next = content.querySelector("article.lightbox");
    if (!next) { return; }
    renameStatusTile(content);
    var current = article();
    var hadFocus = current && current.contains(document.activeElement) ? document.activeElement : null;
    if (current) { current.replaceWith(next); } else { root.appendChild(next); }
    if (window.htmx) { htmx.process(next); }
    document.title = (next.querySelector("#photo-title") || {}).textContent + " · Glowworm";
    resetZoom();
    whenLoaded(next);
    prefetchNeighbours();
    // Keep the keyboard where it was: on the same control of the new photo, else the close button.
    if (hadFocus || overlay) {
      var same = hadFocus && hadFocus.dataset.nav ? next.querySelector("[data-nav='" + hadFocus.dataset.nav + "']") : null;
      (same || next.querySelector("[data-close]")).focus({ preventScroll: true });
    }
  }

  // Once the photo is there, its blurred placeholder goes (it would show round a photo with transparent edges).
  function whenLoaded(container) {
    var image = container && container.querySelector(".lightbox-image");
    if (!image) { return; }
    var mark = function () { image.parentNode.classList.add("is-loaded"); };
    if (image.complete && image.naturalWidth) { mark(); } else { image.addEventListener("load", mark, { once: true }); }
  }

  function prefetchNeighbours() {
    var current = article();
    if (!current) { return; }
    current.querySelectorAll("[data-nav]").forEach(function (link) { fragment(link.getAttribute("href")).catch(function () {}); });
    current.querySelectorAll("[data-neighbour-preview]").forEach(function (link) { new Image().src = link.href; });
  }

  function load(url, how) {
    loading = url;
    return fragment(url).then(function (html) {
      if (loading !== url) { return; } // a later arrow press won
      show(html);
      if (how === "push") {
        history.pushState({ viewer: url }, "", url);
        pushed = true;
      } else if (how === "replace") {
        history.replaceState(overlay ? { viewer: url } : history.state, "", url);
      }
    }, function () {
      if (how !== "push") { location.assign(url); } // let the server say what is wrong
    });
  }

  // --- the overlay --------------------------------------------------------------------------------------------

  function openOverlay(url, tile, how) {
    openedFrom = tile || null;
    savedScroll = window.scrollY;
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.className = "viewer";
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-label", "Photo");
      overlay.setAttribute("data-lightbox", "");
      document.body.appendChild(overlay);
      root = overlay;
      bind(overlay);
    }
    document.documentElement.classList.add("viewer-open");
    document.querySelectorAll("body > header, body > main").forEach(function (el) { el.inert = true; });
    return load(url, how).then(function () {
      if (!article()) { closeOverlay(); }
    });
  }

  function closeOverlay() {
    if (!overlay) { return; }
    var shown = article();
    var photoId = shown ? shown.dataset.photo : null;
    overlay.remove();
    overlay = null;
    root = page;
    pushed = false;
    document.documentElement.classList.remove("viewer-open");
    document.querySelectorAll("body > header, body > main").forEach(function (el) { el.inert = false; });
    document.title = document.body.dataset.title || document.title;
    window.scrollTo(0, savedScroll);
    // Back to the tile of the photo last shown (arrows may have moved on), else the one opened.
    var tile = (photoId && document.getElementById("photo-" + photoId)) || openedFrom;
    var link = tile && tile.isConnected ? tile.querySelector(".tile-link") : null;
    if (link) { link.focus({ preventScroll: true }); }
  }

  function close() {
    if (overlay && pushed) {
      history.back(); // popstate closes it, and Back does the same
    } else if (overlay) {
      closeOverlay();
    } else {
      var target = null;
      try { target = sessionStorage.getItem(RETURN_KEY); } catch (error) { /* private mode */ }
      var shown = article();
      location.assign(target || (shown && shown.dataset.closeUrl) || (page && page.dataset.closeUrl) || "/");
    }
  }

  // Back closes the overlay; Forward opens it again.
  window.addEventListener("popstate", function (event) {
    var state = event.state;
    if (state && state.viewer && grid) {
      if (overlay) { load(state.viewer, null); } else { openOverlay(state.viewer, null, null); }
      pushed = true;
    } else if (overlay) {
      closeOverlay();
    }
  });

  function go(direction) {
    var shown = article();
    var link = shown && shown.querySelector("[data-nav='" + direction + "']");
    if (link) { load(link.getAttribute("href"), "replace"); }
  }

  if (grid) {
    document.body.dataset.title = document.title;
    grid.addEventListener("click", function (event) {
      var link = event.target.closest("[data-photo-link][href]");
      if (!link || event.defaultPrevented) { return; } // a click taken for selection (selection.js)
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; } // a new tab
      var tile = link.closest("[data-photo-id]");
      try { sessionStorage.setItem(RETURN_KEY, location.pathname + location.search + "#" + (tile ? tile.id : "")); } catch (error) { /* private mode */ }
      event.preventDefault();
      var url = link.getAttribute("href") + (grid.dataset.album ? "?album=" + encodeURIComponent(grid.dataset.album) : "");
      openOverlay(url, tile, "push");
    });
  }

  // --- zoom: the wheel, double-click, + and −, two fingers; drag to pan ---------------------------------------

  var zoom = { scale: 1, x: 0, y: 0 };

  function picture() { var shown = article(); return shown && shown.querySelector("[data-zoom-target]"); }

  function applyZoom() {
    var target = picture();
    if (!target) { return; }
    if (zoom.scale <= 1.001) { zoom = { scale: 1, x: 0, y: 0 }; }
    target.style.setProperty("--zoom", String(zoom.scale));
    target.style.setProperty("--pan-x", zoom.x + "px");
    target.style.setProperty("--pan-y", zoom.y + "px");
    var shown = article();
    shown.classList.toggle("is-zoomed", zoom.scale > 1);
    var level = shown.querySelector("[data-zoom-level]");
    if (level) { level.textContent = Math.round(zoom.scale * 100) + "%"; }
  }

  function resetZoom() { zoom = { scale: 1, x: 0, y: 0 }; applyZoom(); }

  // Zoom by `factor` keeping the point (clientX, clientY) where it is.
  function zoomAt(factor, clientX, clientY) {
    var target = picture();
    if (!target) { return; }
    var stage = target.parentNode.getBoundingClientRect();
    var cx = (clientX === undefined ? stage.left + stage.width / 2 : clientX) - (stage.left + stage.width / 2);
    var cy = (clientY === undefined ? stage.top + stage.height / 2 : clientY) - (stage.top + stage.height / 2);
    var scale = Math.min(MAX_ZOOM, Math.max(1, zoom.scale * factor));
    var applied = scale / zoom.scale;
    zoom.x = cx - (cx - zoom.x) * applied;
    zoom.y = cy - (cy - zoom.y) * applied;
    zoom.scale = scale;
    applyZoom();
  }

  var pointers = new Map();
  var gesture = null;
  var swipedAt = 0; // a real finger fires pointer and touch events: one swipe, one step

  function distance() {
    var points = Array.from(pointers.values());
    return Math.hypot(points[0].x - points[1].x, points[0].y - points[1].y);
  }

  function midpoint() {
    var points = Array.from(pointers.values());
    return { x: (points[0].x + points[1].x) / 2, y: (points[0].y + points[1].y) / 2 };
  }

  function bind(container) {
    container.addEventListener("click", function (event) {
      if (event.target.closest("[data-close]")) { event.preventDefault(); close(); return; }
      if (event.target.closest("[data-details]")) { // not a hash change: that would be a history entry
        event.preventDefault();
        var heading = container.querySelector("#photo-title");
        heading.setAttribute("tabindex", "-1");
        heading.scrollIntoView({ behavior: "smooth" });
        heading.focus({ preventScroll: true });
        return;
      }
      var nav = event.target.closest("[data-nav]");
      if (nav && !event.ctrlKey && !event.metaKey) { event.preventDefault(); go(nav.dataset.nav); return; }
      var button = event.target.closest("[data-zoom]");
      if (button) {
        var how = button.dataset.zoom;
        if (how === "reset") { resetZoom(); } else { zoomAt(how === "in" ? 1.5 : 1 / 1.5); }
      }
    });
    container.addEventListener("dblclick", function (event) {
      if (!event.target.closest("[data-photo-stage]")) { return; }
      if (zoom.scale > 1) { resetZoom(); } else { zoomAt(2.5, event.clientX, event.clientY); }
    });
    container.addEventListener("wheel", function (event) {
      if (!event.target.closest("[data-photo-stage]")) { return; }
      event.preventDefault();
      zoomAt(Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015)), event.clientX, event.clientY);
    }, { passive: false });

    // Pointers: one drags a zoomed photo, or swipes between photos; two pinch.
    container.addEventListener("pointerdown", function (event) {
      if (!event.target.closest("[data-photo-stage]") || event.button > 0) { return; }
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 2) {
        gesture = { kind: "pinch", distance: distance(), scale: zoom.scale, mid: midpoint(), x: zoom.x, y: zoom.y };
      } else if (pointers.size === 1) {
        gesture = { kind: zoom.scale > 1 ? "pan" : "swipe", startX: event.clientX, startY: event.clientY, x: zoom.x, y: zoom.y };
      }
    });
    container.addEventListener("pointermove", function (event) {
      if (!pointers.has(event.pointerId) || !gesture) { return; }
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (gesture.kind === "pinch" && pointers.size === 2) {
        var mid = midpoint();
        var target = picture();
        var stage = target.parentNode.getBoundingClientRect();
        var cx = gesture.mid.x - (stage.left + stage.width / 2);
        var cy = gesture.mid.y - (stage.top + stage.height / 2);
        var scale = Math.min(MAX_ZOOM, Math.max(1, gesture.scale * distance() / gesture.distance));
        var applied = scale / gesture.scale;
        zoom = { scale: scale, x: cx - (cx - gesture.x) * applied + (mid.x - gesture.mid.x), y: cy - (cy - gesture.y) * applied + (mid.y - gesture.mid.y) };
        applyZoom();
      } else if (gesture.kind === "pan") {
        zoom.x = gesture.x + event.clientX - gesture.startX;
        zoom.y = gesture.y + event.clientY - gesture.startY;
        applyZoom();
      }
    });
    function end(event) {
      if (!pointers.has(event.pointerId)) { return; }
      pointers.delete(event.pointerId);
      if (gesture && gesture.kind === "swipe" && event.type === "pointerup" && event.pointerType !== "mouse") {
        var dx = event.clientX - gesture.startX;
        var dy = event.clientY - gesture.startY;
        if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
          swipedAt = Date.now();
          go(dx > 0 ? "prev" : "next");
        }
      }
      if (!pointers.size) { gesture = null; }
      if (gesture && gesture.kind === "pinch" && pointers.size === 1) { gesture = null; }
    }
    container.addEventListener("pointerup", end);
    container.addEventListener("pointercancel", end);

    // Touch events too, where pointer events are not synthesised (tests dispatch TouchEvents).
    var touchStart = null;
    container.addEventListener("touchstart", function (event) {
      touchStart = event.touches.length === 1 && event.target.closest(".lightbox-main")
        ? { x: event.touches[0].clientX, y: event.touches[0].clientY } : null;
    }, { passive: true });
    container.addEventListener("touchend", function (event) {
      if (!touchStart || zoom.scale > 1 || gesture || Date.now() - swipedAt < 600) { touchStart = null; return; }
      var touch = event.changedTouches[0];
      var dx = touch.clientX - touchStart.x;
      var dy = touch.clientY - touchStart.y;
      touchStart = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) { go(dx > 0 ? "prev" : "next"); }
    });

    // The photo's forms, sent with fetch; the fragment is then read again (albums, rotation).
    container.addEventListener("submit", function (event) {
      var form = event.target.closest("[data-viewer-form]");
      if (!form) { return; }
      event.preventDefault();
      var shown = article();
      var body = new FormData(form, event.submitter);
      var deleting = form.hasAttribute("data-delete-photo");
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
      Glowworm.post(form.getAttribute("action"), body).then(function (answer) {
        Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
        if (!answer.ok) { return; }
        var url = shown.dataset.url;
        cache.clear();
        if (deleting) {
          Glowworm.grid.remove([shown.dataset.photo]);
          document.dispatchEvent(new CustomEvent("glowworm:count-changed", { detail: { delta: -1 } }));
          var next = shown.querySelector("[data-nav='next']") || shown.querySelector("[data-nav='prev']");
          if (next) { load(next.getAttribute("href"), "replace"); } else { close(); }
          return;
        }
        load(url, null);
      });
    });
  }

  // While the photo re-renders (after a rotation) its tile is pushed; once it is ready, reload the stage.
  function refreshStageWhenReady(tile) {
    var shown = article();
    if (!shown || !tile || !tile.dataset || tile.id.replace("viewer-", "") !== "photo-" + shown.dataset.photo) { return; }
    var stage = shown.querySelector("[data-photo-stage]");
    if (!stage || stage.dataset.status === "ready" || tile.dataset.status !== "ready" || stage.dataset.refreshing) { return; }
    stage.dataset.refreshing = "1";
    cache.clear();
    fetch(shown.dataset.url, { credentials: "same-origin", headers: { "HX-Request": "true", "HX-Target": "photo-stage" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = Glowworm.parse(html).querySelector("[data-photo-stage]");
        if (fresh && stage.isConnected) { stage.replaceWith(fresh); resetZoom(); whenLoaded(fresh); }
      });
  }
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    queueMicrotask(function () {
      var tile = document.getElementById(event.target.id) || event.target;
      refreshStageWhenReady(tile);
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) { refreshStageWhenReady(event.target); });
  // A push for the photo in the overlay whose tile the grid does not show.
  document.body.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var element = event.detail.content;
    if (element && element.dataset && element.dataset.status) { refreshStageWhenReady(element); }
  });

  // A star changed: the cached photo views show the old one.
  document.addEventListener("glowworm:favorite-changed", function () { cache.clear(); });

  document.addEventListener("keydown", function (event) {
    if (!article() || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (document.querySelector("dialog[open]")) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") { return; }
    var handled = true;
    switch (event.key) {
      case "ArrowLeft": go("prev"); break;
      case "ArrowRight": go("next"); break;
      case "Escape": if (zoom.scale > 1) { resetZoom(); } else { close(); } break;
      case "+": case "=": zoomAt(1.5); break;
      case "-": zoomAt(1 / 1.5); break;
      case "0": resetZoom(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  if (page) {
    root = page;
    bind(page);
    whenLoaded(page);
    prefetchNeighbours();
  }
})();
