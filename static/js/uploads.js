// Glowworm uploads: one file per request, a few at a time, each with its own tile in the grid, progress bar, cancel
// and retry; files from the picker, a folder, or dropped anywhere on the page. A tile that becomes a new photo
// announces it with `glowworm:photo-added` (live.js counts it).
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

  function makeUploadTile(file) {
    var tile = fromTemplate("upload-tile").firstElementChild;
    tile.setAttribute("aria-label", "Uploading " + file.name);
    var preview = tile.querySelector(".upload-preview");
    var generic = tile.querySelector(".upload-generic");
    if (PREVIEWABLE.test(file.type)) {
      generic.remove();
      preview.src = URL.createObjectURL(file);
    } else {
      preview.remove();
      generic.textContent = (file.name.split(".").pop() || "file").toUpperCase();
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
    files.forEach(function (file) {
      var job = { file: file, album: album, tile: makeUploadTile(file), attempts: 0, xhr: null, cancelled: false };
      job.tile.uploadJob = job;
      grid.insertBefore(job.tile, grid.firstChild);
      job.tile.dispatchEvent(new CustomEvent("glowworm:upload-queued", { bubbles: true }));
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
      if (document.getElementById(figure.id)) {
        job.tile.remove(); // a push for this photo got here first (and counted it)
      } else {
        job.tile.replaceWith(figure);
        htmx.process(figure);
        if (status === 201) { figure.dispatchEvent(new CustomEvent("glowworm:photo-added", { bubbles: true })); }
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
