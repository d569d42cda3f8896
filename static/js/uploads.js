// Glowworm uploads: one file per request, a few at a time, each with its own tile in the grid, progress bar, cancel
// and retry; files from the picker, a folder, or dropped anywhere on the page. A tile that becomes a new photo goes
// where a reload shows it (grid.js: its month; it moves when the render reads the date taken) and announces itself
// with `glowworm:photo-added`. The local preview stays on it until its real thumbnail has loaded. A summary over the
// page says how it all goes ("12 of 80 uploaded, 3 failed"), and leaving the page while files wait asks first.
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  var grid = document.getElementById("grid");
  if (!form || !grid) { return; }
  var input = document.getElementById("upload-input");
  var folder = document.getElementById("upload-folder");

  var MAX_IN_FLIGHT = 3;
  var MAX_AUTO_RETRIES = 3;
  var PREVIEWABLE = /^image\/(jpeg|png|gif|webp|avif|bmp)$/;
  var ACCEPTED = /\.(jpe?g|png|gif|webp|avif|heic|heif|tiff?|mpo)$/i;
  var queue = [];
  var inFlight = 0;

  function csrfToken() {
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  // A copy of a <template> of _uploader.html.
  function fromTemplate(id) { return document.getElementById(id).content.cloneNode(true); }

  function freshPart(selector) { return fromTemplate("upload-tile").querySelector(selector); }

  // A file icon with its extension, instead of a preview: for what the browser cannot show (HEIC, TIFF, not an
  // image at all) and for a "photo" that turns out not to decode (a broken image icon otherwise).
  function showFileIcon(tile, file) {
    var preview = tile.querySelector(".upload-preview");
    if (preview) { preview.remove(); }
    var generic = tile.querySelector(".upload-generic");
    generic.hidden = false;
    generic.querySelector(".upload-ext").textContent = (file.name.split(".").pop() || "file").slice(0, 5).toUpperCase();
  }

  function makeUploadTile(job) {
    var file = job.file;
    var tile = fromTemplate("upload-tile").firstElementChild;
    tile.setAttribute("aria-label", "Uploading " + file.name);
    var preview = tile.querySelector(".upload-preview");
    if (PREVIEWABLE.test(file.type)) {
      job.previewUrl = URL.createObjectURL(file);
      preview.addEventListener("error", function () {
        showFileIcon(tile, file);
        releasePreview(job);
      }, { once: true });
      preview.src = job.previewUrl;
    } else {
      showFileIcon(tile, file);
    }
    tile.querySelector(".upload-name").textContent = file.name;
    labelProgress(tile.querySelector(".upload-progress"), file);
    return tile;
  }

  function labelProgress(progress, file) {
    progress.setAttribute("aria-label", "Upload progress for " + file.name);
  }

  function albumChoice() {
    var field = form.querySelector("[name=album]");
    return field ? field.value : "";
  }

  function enqueueFiles(files) {
    if (!files.length) { return; }
    var album = albumChoice();
    if (summary.total && summary.done + summary.failed + summary.cancelled >= summary.total) { resetSummary(); }
    files.forEach(function (file) {
      var job = { file: file, album: album, tile: null, attempts: 0, xhr: null, cancelled: false, previewUrl: null };
      job.tile = makeUploadTile(job);
      job.tile.uploadJob = job;
      summary.total += 1;
      grid.insertBefore(job.tile, grid.firstChild);
      job.tile.dispatchEvent(new CustomEvent("glowworm:upload-queued", { bubbles: true }));
      queue.push(job);
    });
    showSummary();
    Glowworm.announce("Uploading " + plural(files.length) + ".");
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
    xhr.open("POST", form.action);
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
    return new DOMParser().parseFromString(html, "text/html");
  }

  function releasePreview(job) {
    if (job.previewUrl) { URL.revokeObjectURL(job.previewUrl); }
    job.previewUrl = null;
  }

  // --- the local preview, kept on the real tile until its thumbnail has loaded ---------------------------------

  var kept = new Map(); // photo id -> the job whose preview the tile shows

  function keepPreview(tile) {
    var job = kept.get(tile.dataset.photoId);
    if (!job || !job.previewUrl) { return; }
    var thumbnail = tile.querySelector("img.tile-image");
    if (thumbnail && thumbnail.complete && thumbnail.naturalWidth) {
      forget(tile.dataset.photoId);
      return;
    }
    var link = tile.querySelector(".tile-link");
    if (link && !link.querySelector(".tile-local-preview")) {
      var preview = document.createElement("img");
      preview.className = "tile-local-preview";
      preview.alt = "";
      preview.src = job.previewUrl;
      var placeholder = link.querySelector(".tile-placeholder");
      link.insertBefore(preview, placeholder ? placeholder.nextSibling : link.firstChild);
    }
    if (thumbnail) {
      thumbnail.loading = "eager";
      thumbnail.addEventListener("load", function () {
        var preview = tile.querySelector(".tile-local-preview");
        if (preview) { preview.remove(); }
        forget(tile.dataset.photoId);
      }, { once: true });
    }
  }

  function forget(id) {
    var job = kept.get(id);
    kept.delete(id);
    if (job) { releasePreview(job); }
  }

  function onTileSwapped(event) {
    var tile = event.target;
    if (!tile.dataset || !kept.has(tile.dataset.photoId)) { return; }
    queueMicrotask(function () {
      var current = document.getElementById(tile.id);
      if (current) { keepPreview(current); } else { forget(tile.dataset.photoId); } // not on this page any more
    });
  }
  grid.addEventListener("htmx:oobAfterSwap", onTileSwapped);
  grid.addEventListener("htmx:afterSettle", onTileSwapped);

  // --- the summary -------------------------------------------------------------------------------------------

  var summary = { total: 0, done: 0, duplicates: 0, failed: 0, cancelled: 0 };
  var summaryBox = document.getElementById("upload-summary");

  function plural(n) { return n.toLocaleString("en") + " photo" + (n === 1 ? "" : "s"); }

  function resetSummary() { summary = { total: 0, done: 0, duplicates: 0, failed: 0, cancelled: 0 }; }

  function busy() { return inFlight > 0 || queue.some(function (job) { return !job.cancelled; }); }

  function showSummary() {
    if (!summaryBox) { return; }
    var total = summary.total - summary.cancelled;
    var finished = summary.done + summary.duplicates + summary.failed;
    var parts = [(summary.done + summary.duplicates).toLocaleString("en") + " of " + total.toLocaleString("en") + " uploaded"];
    if (summary.duplicates) { parts.push(summary.duplicates + " already in the library"); }
    if (summary.failed) { parts.push(summary.failed + " failed"); }
    summaryBox.querySelector("[data-summary-text]").textContent = parts.join(", ");
    summaryBox.querySelector("progress").value = total ? Math.round(100 * finished / total) : 100;
    var over = finished >= total;
    summaryBox.hidden = summary.total === 0;
    summaryBox.classList.toggle("upload-summary--done", over);
    summaryBox.classList.toggle("upload-summary--failed", summary.failed > 0);
    summaryBox.querySelector("[data-summary-dismiss]").hidden = !over;
    summaryBox.querySelector("[data-summary-show-failed]").hidden = !summary.failed;
  }

  function finished(kind) {
    summary[kind] += 1;
    showSummary();
    if (summary.done + summary.duplicates + summary.failed >= summary.total - summary.cancelled) {
      Glowworm.announce(summaryBox ? summaryBox.querySelector("[data-summary-text]").textContent + "." : "Uploads finished.");
    }
  }

  if (summaryBox) {
    summaryBox.addEventListener("click", function (event) {
      if (event.target.closest("[data-summary-dismiss]")) {
        summaryBox.hidden = true;
        resetSummary();
      }
      if (event.target.closest("[data-summary-show-failed]")) {
        var failed = grid.querySelector(".upload-tile--error");
        if (failed) {
          failed.scrollIntoView({ block: "center" });
          var button = failed.querySelector("button");
          if (button) { button.focus({ preventScroll: true }); }
        }
      }
    });
  }

  // Leaving the page would drop the files still waiting or on their way: ask first.
  window.addEventListener("beforeunload", function (event) {
    if (!busy()) { return; }
    event.preventDefault();
    event.returnValue = "";
  });

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
        finished("failed");
      }
      pump();
      return;
    }
    var content = parse(html);
    var figure = content.querySelector("figure[data-photo-id]");
    var duplicate = content.querySelector("[data-duplicate-of]");
    var rejected = content.querySelector("[data-upload-error]");
    if (figure && status < 300) {
      job.tile.remove();
      var placed = document.getElementById(figure.id); // a push for this photo got here first (and counted it)
      if (!placed && Glowworm.grid.place(grid, figure)) {
        placed = figure;
        htmx.process(figure);
        if (status === 201) { figure.dispatchEvent(new CustomEvent("glowworm:photo-added", { bubbles: true })); }
      }
      if (placed && job.previewUrl) {
        kept.set(figure.dataset.photoId, job);
        keepPreview(placed);
      } else {
        releasePreview(job);
      }
      finished(status === 201 ? "done" : "duplicates");
    } else if (duplicate) {
      showDuplicate(job, duplicate);
      finished("duplicates");
    } else {
      showProblem(job, rejected ? rejected.dataset.uploadError : "The upload was refused (" + status + ").", false);
      finished("failed");
    }
    pump();
  }

  function showDuplicate(job, duplicate) {
    job.tile.classList.add("upload-tile--duplicate");
    setState(job, "Already in your library", "duplicate");
    var buttons = job.tile.querySelector(".upload-buttons");
    buttons.replaceChildren(fromTemplate("upload-duplicate-buttons"));
    buttons.querySelector("[data-duplicate-link]").href = duplicate.dataset.href;
    job.tile.querySelector(".upload-progress").remove();
  }

  function showProblem(job, message, canRetry) {
    job.tile.classList.add("upload-tile--error");
    setState(job, message, "error");
    var choices = fromTemplate("upload-problem-buttons");
    if (!canRetry) { choices.querySelector("[data-upload-retry]").remove(); }
    job.tile.querySelector(".upload-buttons").replaceChildren(choices);
    var progress = job.tile.querySelector(".upload-progress");
    if (progress) { progress.remove(); }
  }

  grid.addEventListener("click", function (event) {
    var button = event.target.closest("[data-upload-cancel], [data-upload-dismiss], [data-upload-retry]");
    if (!button) { return; }
    var tile = button.closest(".upload-tile");
    var job = tile && tile.uploadJob;
    if (!job) { return; }
    if (button.hasAttribute("data-upload-retry")) {
      // Back to how a waiting tile looks: a progress bar and a cancel button.
      tile.classList.remove("upload-tile--error");
      summary.failed = Math.max(0, summary.failed - 1);
      showSummary();
      var buttons = freshPart(".upload-buttons");
      tile.querySelector(".upload-buttons").replaceWith(buttons);
      var progress = freshPart(".upload-progress");
      labelProgress(progress, job.file);
      buttons.before(progress);
      job.attempts = 0;
      queue.push(job);
      pump();
      return;
    }
    if (button.hasAttribute("data-upload-dismiss")) {
      releasePreview(job);
      tile.remove();
      return;
    }
    job.cancelled = true;
    if (job.xhr) { job.xhr.abort(); }
    releasePreview(job);
    tile.remove();
    summary.cancelled += 1;
    showSummary();
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

  form.addEventListener("change", function (event) {
    var picker = event.target;
    if (picker === input || picker === folder) {
      enqueueFiles(onlyPhotos(picker.files, picker === folder));
      picker.value = "";
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.files.length) {
      enqueueFiles(onlyPhotos(input.files, false));
      input.value = "";
    } else {
      input.click();
    }
  });

  var folderButton = form.querySelector("[data-pick-folder]");
  if (folderButton && "webkitdirectory" in folder) { folderButton.hidden = false; }
  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-pick-folder]")) { folder.click(); }
  });

  // Drop anywhere on the page: these listen on the document on purpose.
  var dragDepth = 0;
  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }
  document.addEventListener("dragenter", function (event) {
    if (!hasFiles(event)) { return; }
    dragDepth += 1;
    document.documentElement.classList.add("dragging");
  });
  document.addEventListener("dragleave", function () {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) { document.documentElement.classList.remove("dragging"); }
  });
  document.addEventListener("dragover", function (event) {
    if (hasFiles(event)) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    if (!hasFiles(event)) { return; }
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
})();
