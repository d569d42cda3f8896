// Glowworm frame: the pairing screen and the slideshow of a wall display. No inline scripts (CSP): configuration
// comes from data- attributes on <body>. The server is the source of truth: the frame asks for its whole state on
// every (re)connect, and treats pushes as hints. It keeps cycling the images it has while the server is away.
(function () {
  "use strict";

  var body = document.body;
  var HEARTBEAT_MS = 30000;
  var LOAD_TIMEOUT_MS = 20000;
  var CACHE_SIZE = 16;
  var RENEW_MS = 24 * 3600 * 1000;

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  // A websocket that reconnects by itself with exponential back-off (1 s doubling to a minute, with jitter).
  function reconnecting(path, handlers) {
    var delay = 1000;
    var socket = null;
    function open() {
      socket = new WebSocket(socketUrl(path));
      socket.onopen = function () {
        delay = 1000;
        if (handlers.open) { handlers.open(); }
      };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        handlers.message(message);
      };
      socket.onclose = function (event) {
        if (event.code === 4403) {
          // Not (or no longer) a paired frame: the page shows a pairing code after a reload.
          setTimeout(function () { location.reload(); }, 2000);
          return;
        }
        setTimeout(open, delay + Math.random() * delay / 2);
        delay = Math.min(delay * 2, 60000);
      };
    }
    open();
    return {
      send: function (message) {
        if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
      }
    };
  }

  // -----------------------------------------------------------------------------------------------------------
  // Pairing: wait for the admin's confirmation on the pairing group, then reload to collect the frame secret.
  if (body.hasAttribute("data-pairing")) {
    reconnecting(body.dataset.ws, {
      message: function (message) {
        if (message.type === "paired") { location.reload(); }
      }
    });
    var expiresIn = Number(body.dataset.expiresIn || 600);
    setTimeout(function () { location.reload(); }, expiresIn * 1000 + 500);
    return;
  }

  if (!body.hasAttribute("data-slideshow")) { return; }

  // -----------------------------------------------------------------------------------------------------------
  // Slideshow.
  var stage = document.getElementById("stage");
  var empty = document.getElementById("frame-empty");
  var state = null;
  var slides = [];
  var index = -1;
  var currentKey = null;
  var currentPhoto = null;
  var timer = null;
  var busy = false;
  var cache = {}; // src -> {image: decoded HTMLImageElement, used: counter}
  var useCounter = 0;
  var socket = null;

  function screenSize() {
    var ratio = window.devicePixelRatio || 1;
    return {
      width: Math.round(window.innerWidth * ratio),
      height: Math.round(window.innerHeight * ratio),
      ratio: ratio
    };
  }

  function loadImage(src) {
    var hit = cache[src];
    if (hit) {
      hit.used = ++useCounter;
      return Promise.resolve(hit.image);
    }
    var image = new Image();
    image.decoding = "async";
    image.alt = "";
    image.src = src;
    var decoded = image.decode ? image.decode() : new Promise(function (resolve, reject) {
      image.onload = resolve;
      image.onerror = reject;
    });
    var timeout = new Promise(function (resolve, reject) {
      setTimeout(function () { reject(new Error("timeout")); }, LOAD_TIMEOUT_MS);
    });
    return Promise.race([decoded, timeout]).then(function () {
      cache[src] = { image: image, used: ++useCounter };
      trimCache();
      return image;
    });
  }

  function trimCache() {
    var keep = {};
    [0, 1, 2].forEach(function (offset) {
      var slide = slides[(index + offset) % Math.max(slides.length, 1)];
      if (slide) { slide.photos.forEach(function (photo) { keep[photo.src] = true; }); }
    });
    var sources = Object.keys(cache);
    if (sources.length <= CACHE_SIZE) { return; }
    sources.sort(function (a, b) { return cache[a].used - cache[b].used; });
    for (var i = 0; i < sources.length - CACHE_SIZE; i++) {
      if (!keep[sources[i]]) { delete cache[sources[i]]; }
    }
  }

  function isCached(slide) {
    return slide.photos.every(function (photo) { return Boolean(cache[photo.src]); });
  }

  function loadSlide(slide) {
    return Promise.all(slide.photos.map(function (photo) { return loadImage(photo.src); }));
  }

  function preload() {
    for (var offset = 1; offset <= 2 && slides.length > 1; offset++) {
      var slide = slides[(index + offset) % slides.length];
      loadSlide(slide).catch(function () {});
    }
  }

  function buildSlide(slide, images) {
    var element = document.createElement("div");
    element.className = "slide slide--" + slide.layout;
    element.dataset.key = slide.key;
    slide.photos.forEach(function (photo, n) {
      var figure = document.createElement("figure");
      figure.className = "slide-photo";
      var image = images[n];
      if (image.parentNode) { image = image.cloneNode(); }
      image.dataset.photoId = photo.id;
      figure.appendChild(image);
      if (state.playlist && state.playlist.captions && photo.caption) {
        var caption = document.createElement("figcaption");
        caption.className = "slide-caption";
        caption.textContent = photo.caption;
        figure.appendChild(caption);
      }
      element.appendChild(figure);
    });
    return element;
  }

  function present(slide, images, direction) {
    var transition = (state.playlist && state.playlist.transition) || "fade";
    var interval = (state.playlist && state.playlist.interval) || 30;
    stage.dataset.transition = transition;
    stage.style.setProperty("--interval", interval + "s");
    var element = buildSlide(slide, images);
    element.classList.add(direction < 0 ? "slide--from-left" : "slide--from-right");
    var previous = Array.prototype.slice.call(stage.querySelectorAll(".slide"));
    stage.appendChild(element);
    // Two frames later the browser has laid the new slide out in its start state, so the change animates.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        element.classList.add("slide--active");
        previous.forEach(function (old) {
          old.classList.remove("slide--active");
          old.classList.add(direction < 0 ? "slide--leaving-right" : "slide--leaving-left");
          setTimeout(function () { old.remove(); }, transition === "none" ? 0 : 1600);
        });
      });
    });
    currentKey = slide.key;
    currentPhoto = slide.photos[0].id;
    body.dataset.showing = slide.photos.map(function (photo) { return photo.id; }).join(",");
    if (socket) { socket.send({ type: "showing", photo: currentPhoto }); }
  }

  function schedule() {
    clearTimeout(timer);
    if (!state || state.blank || slides.length === 0) { return; }
    timer = setTimeout(function () { advance(1); }, ((state.playlist && state.playlist.interval) || 30) * 1000);
  }

  // Show the slide `step` away from the current one. One that does not load (server away, photo gone) is skipped
  // for the next; what is already decoded in the cache always shows, so the frame keeps cycling offline.
  function advance(step) {
    if (busy || !state || state.blank || slides.length === 0) { return; }
    busy = true;
    var attempts = 0;
    var start = index < 0 ? (step > 0 ? -1 : 0) : index;
    function tryAt(position) {
      if (attempts >= slides.length) {
        busy = false;
        schedule();
        return;
      }
      attempts++;
      var target = ((position % slides.length) + slides.length) % slides.length;
      var slide = slides[target];
      if (slides.length === 1 && slide.key === currentKey && stage.querySelector(".slide")) {
        busy = false;
        schedule();
        return;
      }
      loadSlide(slide).then(function (images) {
        busy = false;
        if (slides[target] !== slide) { schedule(); return; } // the state changed meanwhile
        index = target;
        present(slide, images, step);
        preload();
        schedule();
      }).catch(function () {
        // Prefer a slide that is already decoded over waiting on the network again.
        for (var n = 1; n <= slides.length; n++) {
          var candidate = ((target + n * (step < 0 ? -1 : 1)) % slides.length + slides.length) % slides.length;
          if (isCached(slides[candidate])) { tryAt(candidate); return; }
        }
        tryAt(target + (step < 0 ? -1 : 1));
      });
    }
    tryAt(start + step);
  }

  function showEmpty(show) {
    empty.hidden = !show;
    body.classList.toggle("frame--empty", show);
  }

  function applyState(next) {
    if (next.type !== "state") { return; }
    state = next;
    slides = next.slides || [];
    body.classList.toggle("frame--blank", Boolean(next.blank));
    body.dataset.playlist = next.playlist ? String(next.playlist.id) : "";
    if (next.blank) {
      clearTimeout(timer);
      stage.textContent = "";
      currentKey = null;
      showEmpty(false);
      return;
    }
    if (slides.length === 0) {
      clearTimeout(timer);
      stage.textContent = "";
      currentKey = null;
      showEmpty(true);
      return;
    }
    showEmpty(false);
    var keys = slides.map(function (slide) { return slide.key; });
    var stillThere = keys.indexOf(currentKey);
    if (stillThere >= 0) {
      // The slide on screen is still in the playlist: carry on from there with the new order and settings.
      index = stillThere;
      preload();
      schedule();
    } else {
      // What was on screen left the playlist (or nothing showed yet): move on at once.
      index = Math.min(Math.max(index, 0), slides.length) - 1;
      busy = false;
      advance(1);
    }
  }

  function fetchState() {
    return fetch(body.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.status === 403) { location.reload(); return null; }
      return response.ok ? response.json() : null;
    }).then(function (next) {
      if (next) { applyState(next); }
    }).catch(function () {});
  }

  // On every (re)connect and resize: the server records the screen, renders sizes for it and answers with the state.
  function reportScreen() {
    var size = screenSize();
    socket.send({ type: "screen", width: size.width, height: size.height });
  }

  function hello() {
    reportScreen();
    socket.send({ type: "heartbeat", photo: currentPhoto });
  }

  fetchState();
  socket = reconnecting(body.dataset.ws, {
    open: hello,
    message: function (message) {
      if (message.type === "state") {
        applyState(message);
      } else if (message.type === "command") {
        if (message.command === "next") { busy = false; advance(1); }
        else if (message.command === "previous") { busy = false; advance(-1); }
        else if (message.command === "refresh") { location.reload(); }
      } else if (message.type === "revoked") {
        location.reload();
      }
    }
  });
  setInterval(function () { socket.send({ type: "heartbeat", photo: currentPhoto }); }, HEARTBEAT_MS);
  // Once a day over HTTP as well: the answer renews the frame's cookie, which a websocket cannot do, so a frame
  // that runs for a year without a reload keeps its secret. (Control never waits for this: pushes do that.)
  setInterval(fetchState, RENEW_MS);
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(reportScreen, 1000);
  });
})();
