// Glowworm gallery: live-update catch-up, uploads with progress, selection and bulk actions, lightbox keys.
// No inline scripts or styles anywhere (CSP): everything is wired here from data- attributes.
(function () {
  "use strict";

  var $ = function (selector, root) { return (root || document).querySelector(selector); };
  var $$ = function (selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); };

  function grid() { return document.getElementById("grid"); }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      var input = $("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    }
  }

  // The library's "N photos" line follows new photos (uploaded here or pushed from elsewhere) without a reload.
  function countNewPhoto() {
    var counter = document.getElementById("library-count");
    if (!counter) { return; }
    var count = Number(counter.dataset.count || 0) + 1;
    counter.dataset.count = String(count);
    counter.textContent = count + (count === 1 ? " photo" : " photos");
  }

  function hideEmptyMessage() {
    var empty = document.getElementById("empty-library");
    if (empty) { empty.remove(); }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Live updates. Pushes are hints: on every (re)connect, ask for what changed while the socket was away.
  document.addEventListener("htmx:wsOpen", function (event) {
    var pending = $$("[data-photo-id][data-status='queued'], [data-photo-id][data-status='processing']").map(
      function (el) { return Number(el.dataset.photoId); }
    );
    var message = { sync: { pending: pending } };
    var target = grid();
    if (target && target.hasAttribute("data-accept-new")) {
      var after = Number(target.dataset.after || 0);
      $$("[data-photo-id]", target).forEach(function (el) { after = Math.max(after, Number(el.dataset.photoId)); });
      message.sync.after = after;
    }
    event.detail.socketWrapper.send(JSON.stringify(message));
  });

  // A pushed photo that this page does not show yet (uploaded elsewhere): add it to the top of the library.
  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var element = event.detail.content;
    var target = grid();
    if (!target || !target.hasAttribute("data-accept-new") || !element || !element.dataset || !element.dataset.photoId) {
      return;
    }
    element.removeAttribute("hx-swap-oob");
    target.insertBefore(element, target.firstChild);
    htmx.process(element);
    hideEmptyMessage();
    countNewPhoto();
    restoreSelection();
  });

  // A tile can arrive twice (a push, then the page of the library that holds it): keep the first one.
  function dropDuplicateTiles() {
    var seen = {};
    $$("#grid [data-photo-id]").forEach(function (el) {
      if (seen[el.id]) { el.remove(); } else { seen[el.id] = true; }
    });
  }

  document.addEventListener("htmx:afterSettle", function () { dropDuplicateTiles(); restoreSelection(); });
  document.addEventListener("htmx:oobAfterSwap", function () { restoreSelection(); });

  // ---------------------------------------------------------------------------------------------------------
  // Uploads: one file per request, a few at a time, each with its own tile, progress bar, cancel and retry.
  var MAX_IN_FLIGHT = 3;
  var MAX_AUTO_RETRIES = 3;
  var PREVIEWABLE = /^image\/(jpeg|png|gif|webp|avif|bmp)$/;
  var ACCEPTED = /\.(jpe?g|png|gif|webp|avif|heic|heif|tiff?|mpo)$/i;
  var queue = [];
  var inFlight = 0;

  function uploadForm() { return document.getElementById("upload-form"); }

  function makeUploadTile(file) {
    var tile = document.createElement("figure");
    tile.className = "tile upload-tile";
    tile.setAttribute("aria-label", "Uploading " + file.name);
    var picture;
    if (PREVIEWABLE.test(file.type)) {
      picture = document.createElement("img");
      picture.className = "tile-image upload-preview";
      picture.alt = "";
      picture.src = URL.createObjectURL(file);
    } else {
      picture = document.createElement("span");
      picture.className = "upload-generic";
      picture.textContent = (file.name.split(".").pop() || "file").toUpperCase();
    }
    tile.appendChild(picture);
    var caption = document.createElement("figcaption");
    caption.className = "upload-caption";
    caption.innerHTML =
      '<span class="upload-name"></span>' +
      '<span class="upload-state" role="status">Waiting…</span>' +
      '<progress class="upload-progress" max="100" value="0"></progress>' +
      '<span class="upload-buttons"><button type="button" class="tile-button" data-upload-cancel>Cancel</button></span>';
    caption.querySelector(".upload-name").textContent = file.name;
    caption.querySelector(".upload-progress").setAttribute("aria-label", "Upload progress for " + file.name);
    tile.appendChild(caption);
    return tile;
  }

  function albumChoice() {
    var form = uploadForm();
    var field = form && form.querySelector("[name=album]");
    return field ? field.value : "";
  }

  function enqueueFiles(files) {
    var target = grid();
    if (!target || !files.length) { return; }
    hideEmptyMessage();
    var album = albumChoice();
    files.forEach(function (file) {
      var job = { file: file, album: album, tile: makeUploadTile(file), attempts: 0, xhr: null, cancelled: false };
      job.tile.uploadJob = job;
      target.insertBefore(job.tile, target.firstChild);
      queue.push(job);
    });
    pump();
  }

  function pump() {
    while (inFlight < MAX_IN_FLIGHT && queue.length) {
      var job = queue.shift();
      if (!job.cancelled) { send(job); }
    }
  }

  function setState(job, text, kind) {
    var state = job.tile.querySelector(".upload-state");
    if (state) { state.textContent = text; }
    job.tile.dataset.uploadState = kind || "";
  }

  function send(job) {
    inFlight += 1;
    job.attempts += 1;
    var xhr = new XMLHttpRequest();
    job.xhr = xhr;
    var progress = job.tile.querySelector(".upload-progress");
    setState(job, job.attempts > 1 ? "Retrying…" : "Uploading…", "uploading");
    xhr.open("POST", uploadForm().action);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        progress.value = Math.round((event.loaded / event.total) * 100);
        setState(job, progress.value + "%", "uploading");
      }
    });
    xhr.upload.addEventListener("load", function () { setState(job, "Checking…", "checking"); });
    xhr.addEventListener("load", function () { finish(job, xhr.status, xhr.responseText); });
    xhr.addEventListener("error", function () { finish(job, 0, ""); });
    xhr.addEventListener("abort", function () { finish(job, -1, ""); });
    var body = new FormData();
    body.append("files", job.file, job.file.name);
    if (job.album) { body.append("album", job.album); }
    xhr.send(body);
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function releasePreview(job) {
    var preview = job.tile.querySelector(".upload-preview");
    if (preview) { URL.revokeObjectURL(preview.src); }
  }

  function finish(job, status, html) {
    inFlight -= 1;
    job.xhr = null;
    if (status === -1 || job.cancelled) {
      pump();
      return;
    }
    if (status === 0 || status >= 500) {
      // Network failure or a server hiccup: try again with backoff, then let the person decide.
      if (job.attempts <= MAX_AUTO_RETRIES) {
        setState(job, "Connection lost, retrying…", "retrying");
        window.setTimeout(function () { if (!job.cancelled) { queue.unshift(job); pump(); } }, 1000 * Math.pow(3, job.attempts - 1));
      } else {
        showProblem(job, "Upload failed: the server could not be reached.", true);
      }
      pump();
      return;
    }
    var content = parse(html);
    var figure = content.querySelector("figure[data-photo-id]");
    var duplicate = content.querySelector("[data-duplicate-of]");
    var rejected = content.querySelector("[data-upload-error]");
    if (figure && status < 300) {
      releasePreview(job);
      var existing = document.getElementById(figure.id);
      if (status === 201 && !existing) { countNewPhoto(); } // else the push that got here first counted it
      if (existing) {
        job.tile.remove(); // a push for this photo got here first
      } else {
        job.tile.replaceWith(figure);
        htmx.process(figure);
      }
    } else if (duplicate) {
      showDuplicate(job, duplicate);
    } else {
      showProblem(job, rejected ? rejected.dataset.uploadError : "The upload was refused (" + status + ").", false);
    }
    pump();
  }

  function showDuplicate(job, duplicate) {
    job.tile.classList.add("upload-tile--duplicate");
    setState(job, "Already in your library", "duplicate");
    var buttons = job.tile.querySelector(".upload-buttons");
    buttons.innerHTML = '<a class="tile-button" data-duplicate-link>See it</a>' +
      '<button type="button" class="tile-button" data-upload-dismiss>Dismiss</button>';
    buttons.querySelector("a").href = duplicate.dataset.href;
    job.tile.querySelector(".upload-progress").remove();
  }

  function showProblem(job, message, canRetry) {
    job.tile.classList.add("upload-tile--error");
    setState(job, message, "error");
    var buttons = job.tile.querySelector(".upload-buttons");
    buttons.innerHTML = (canRetry ? '<button type="button" class="tile-button" data-upload-retry>Retry</button>' : "") +
      '<button type="button" class="tile-button" data-upload-dismiss>Dismiss</button>';
    var progress = job.tile.querySelector(".upload-progress");
    if (progress) { progress.remove(); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-upload-cancel], [data-upload-dismiss], [data-upload-retry]");
    if (!button) { return; }
    var tile = button.closest(".upload-tile");
    var job = tile && tile.uploadJob;
    if (!job) { return; }
    if (button.hasAttribute("data-upload-retry")) {
      tile.classList.remove("upload-tile--error");
      button.closest(".upload-buttons").innerHTML = '<button type="button" class="tile-button" data-upload-cancel>Cancel</button>';
      var progress = document.createElement("progress");
      progress.className = "upload-progress";
      progress.max = 100;
      progress.value = 0;
      tile.querySelector(".upload-caption").insertBefore(progress, tile.querySelector(".upload-buttons"));
      job.attempts = 0;
      queue.push(job);
      pump();
      return;
    }
    job.cancelled = true;
    if (job.xhr) { job.xhr.abort(); }
    releasePreview(job);
    tile.remove();
  });

  // Files, from a picker or a drop: folders are walked where the browser allows.
  function filesFromEntries(items) {
    var files = [];
    var pending = [];
    function walk(entry) {
      if (!entry) { return; }
      if (entry.isFile) {
        pending.push(new Promise(function (resolve) {
          entry.file(function (file) { files.push(file); resolve(); }, resolve);
        }));
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        pending.push(new Promise(function (resolve) {
          var readBatch = function () {
            reader.readEntries(function (entries) {
              if (!entries.length) { resolve(); return; }
              entries.forEach(walk);
              readBatch();
            }, resolve);
          };
          readBatch();
        }));
      }
    }
    items.forEach(walk);
    var settle = function () {
      var count = pending.length;
      return Promise.all(pending).then(function () { return pending.length > count ? settle() : files; });
    };
    return settle();
  }

  function onlyPhotos(files, fromFolder) {
    return Array.prototype.filter.call(files, function (file) {
      // From folders, skip what is plainly not a photo (sidecars, .DS_Store); single picks go to the server to judge.
      return !fromFolder || ACCEPTED.test(file.name) || /^image\//.test(file.type);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.id === "upload-input" || input.id === "upload-folder") {
      enqueueFiles(onlyPhotos(input.files, input.id === "upload-folder"));
      input.value = "";
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "upload-form") { return; }
    event.preventDefault();
    var input = document.getElementById("upload-input");
    if (input.files.length) {
      enqueueFiles(onlyPhotos(input.files, false));
      input.value = "";
    } else {
      input.click();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-pick-folder]")) { document.getElementById("upload-folder").click(); }
  });

  var dragDepth = 0;
  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }
  document.addEventListener("dragenter", function (event) {
    if (!hasFiles(event) || !uploadForm()) { return; }
    dragDepth += 1;
    document.documentElement.classList.add("dragging");
  });
  document.addEventListener("dragleave", function () {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) { document.documentElement.classList.remove("dragging"); }
  });
  document.addEventListener("dragover", function (event) {
    if (hasFiles(event) && uploadForm()) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    if (!uploadForm() || !hasFiles(event)) { return; }
    event.preventDefault();
    dragDepth = 0;
    document.documentElement.classList.remove("dragging");
    var items = Array.prototype.slice.call(event.dataTransfer.items || []);
    var entries = items.map(function (item) { return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null; });
    if (entries.length && entries.every(Boolean) && entries.some(function (entry) { return entry.isDirectory; })) {
      filesFromEntries(entries).then(function (files) { enqueueFiles(onlyPhotos(files, true)); });
    } else {
      enqueueFiles(onlyPhotos(event.dataTransfer.files, false));
    }
  });

  // ---------------------------------------------------------------------------------------------------------
  // Selection: click a tile's checkbox, shift-click for a range, "Select all" for every tile in view.
  // Once something is selected, clicking a tile selects it instead of opening it.
  var selected = new Set();
  var lastClicked = null;

  function tileBoxes() { return $$("#grid .tile-select"); }

  function restoreSelection() {
    tileBoxes().forEach(function (box) { box.checked = selected.has(box.value); });
    $$("#grid [data-photo-id]").forEach(function (tile) {
      tile.classList.toggle("is-selected", selected.has(tile.dataset.photoId));
    });
    var count = $("[data-selected-count]");
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

  document.addEventListener("click", function (event) {
    var box = event.target.closest("#grid .tile-select");
    if (box) {
      if (event.shiftKey && lastClicked) { selectRange(box, box.checked); } else { setSelected(box, box.checked); }
      lastClicked = box;
      restoreSelection();
      return;
    }
    var link = event.target.closest("#grid [data-photo-link]");
    if (link) {
      var tile = link.closest("[data-photo-id]");
      var tileBox = tile && tile.querySelector(".tile-select");
      if (tileBox && (selected.size > 0 || event.shiftKey)) {
        event.preventDefault();
        var on = !selected.has(tileBox.value);
        if (event.shiftKey && lastClicked) { selectRange(tileBox, on); } else { setSelected(tileBox, on); }
        lastClicked = tileBox;
        restoreSelection();
        return;
      }
      // Remember where the lightbox was opened from, so Escape goes back there.
      try { sessionStorage.setItem("glowworm:return", location.pathname + location.search + "#" + (tile ? tile.id : "")); } catch (error) { /* private mode */ }
      var album = grid() && grid().dataset.album;
      if (album && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        location.assign(link.getAttribute("href") + "?album=" + encodeURIComponent(album));
      }
    }
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
    if (event.key === "Escape" && selected.size && !document.querySelector("[data-lightbox]")) {
      selected.clear();
      restoreSelection();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-bulk]")) { return; }
    var action = event.submitter ? event.submitter.value : "";
    if (!selected.size) {
      event.preventDefault();
      return;
    }
    // Photos selected on this page but no longer shown (scrolled pages replaced) still count.
    $$("input[data-extra-selection]", form).forEach(function (input) { input.remove(); });
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
      var count = selected.size;
      if (!window.confirm("Delete " + count + " photo" + (count === 1 ? "" : "s") + "? They are removed from the library and every album.")) {
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

  // ---------------------------------------------------------------------------------------------------------
  // Lightbox: arrow keys and swipes browse, Escape returns to where the photo was opened from.
  function lightbox() { return document.querySelector("[data-lightbox]"); }

  function closeLightbox() {
    var target = null;
    try { target = sessionStorage.getItem("glowworm:return"); } catch (error) { /* private mode */ }
    var main = lightbox();
    location.assign(target || (main && main.dataset.closeUrl) || "/");
  }

  function go(direction) {
    var link = document.querySelector("[data-nav='" + direction + "']");
    if (link) { location.assign(link.href); }
  }

  document.addEventListener("keydown", function (event) {
    if (!lightbox() || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") { return; }
    if (event.key === "ArrowLeft") { event.preventDefault(); go("prev"); }
    if (event.key === "ArrowRight") { event.preventDefault(); go("next"); }
    if (event.key === "Escape") { event.preventDefault(); closeLightbox(); }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close]")) {
      event.preventDefault();
      closeLightbox();
    }
  });

  var touchStart = null;
  document.addEventListener("touchstart", function (event) {
    if (!lightbox() || event.touches.length !== 1) { return; }
    touchStart = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  document.addEventListener("touchend", function (event) {
    if (!touchStart || !lightbox()) { return; }
    var touch = event.changedTouches[0];
    var dx = touch.clientX - touchStart.x;
    var dy = touch.clientY - touchStart.y;
    touchStart = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) { go(dx > 0 ? "prev" : "next"); }
  });

  // While the photo re-renders (after a rotation), its tile is pushed here; when it is ready, reload the stage.
  document.addEventListener("htmx:oobAfterSwap", refreshStageWhenReady);
  document.addEventListener("htmx:afterSettle", refreshStageWhenReady);
  function refreshStageWhenReady() {
    var stage = document.getElementById("photo-stage");
    var tile = document.querySelector(".lightbox-status [data-photo-id]");
    if (!stage || !tile || stage.dataset.status === "ready" || tile.dataset.status !== "ready" || stage.dataset.refreshing) { return; }
    stage.dataset.refreshing = "1";
    htmx.ajax("GET", location.pathname + location.search, { target: "#photo-stage", swap: "outerHTML" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var folder = document.getElementById("upload-folder");
    var button = document.querySelector("[data-pick-folder]");
    if (folder && button && "webkitdirectory" in folder) { button.hidden = false; }
    restoreSelection();
  });
})();
