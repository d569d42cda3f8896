// Glowworm core: what the feature scripts share, as window.Glowworm.
// - announce(text): the page's one live region (#announcer), so a screen reader hears each thing once;
// - toasts: the messages of the page and of every script's POST (#toasts), gone after about 10 s unless hovered or
//   focused; an Undo form in a toast restores what was moved to the trash (Ctrl+Z does the newest);
// - confirm({title, text, ok}): the page's <dialog>, a Promise of true or false;
// - post(url, body): a POST with the CSRF token and HX-Request, answering {status, ok, content} where content is
//   the answer's elements (toasts are shown at once; the caller takes the rest).
// A POST answered with restored tiles fires `glowworm:tiles-restored` on the document (grid.js places them).
window.Glowworm = (function () {
  "use strict";

  var TOAST_SECONDS = 10;
  var announcer = document.getElementById("announcer");
  var toasts = document.getElementById("toasts");

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (error) { return ""; }
  }

  function announce(text) {
    if (!announcer || !text) { return; }
    // Emptied first, so the same words twice are read twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      body: body
    }).then(function (response) {
      return response.text().then(function (html) {
        var content = parse(html);
        showToasts(content);
        return { status: response.status, ok: response.ok, content: content, url: response.url };
      });
    }, function () {
      var content = parse("");
      addToast(toastElement("The server could not be reached. Nothing was changed; try again.", "error"));
      return { status: 0, ok: false, content: content };
    });
  }

  // --- toasts ------------------------------------------------------------------------------------------------

  function toastElement(text, level) {
    var item = document.createElement("li");
    item.className = "toast toast--" + (level || "info");
    item.setAttribute("data-toast", "");
    if (level === "error") { item.setAttribute("data-sticky", ""); }
    var span = document.createElement("span");
    span.className = "toast-text";
    span.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-toast-close", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    item.append(span, close);
    return item;
  }

  function dismiss(toast) {
    if (!toast.isConnected) { return; }
    var hadFocus = toast.contains(document.activeElement);
    toast.remove();
    if (hadFocus) { document.body.focus(); }
  }

  function startTimer(toast) {
    if (toast.hasAttribute("data-sticky")) { return; }
    var left = TOAST_SECONDS * 1000;
    var started = Date.now();
    var timer = window.setTimeout(function () { dismiss(toast); }, left);
    // Paused while the pointer or the keyboard is on it: nobody loses an Undo they are about to press.
    function pause() {
      window.clearTimeout(timer);
      left -= Date.now() - started;
    }
    function resume() {
      if (toast.matches(":hover") || toast.contains(document.activeElement)) { return; }
      started = Date.now();
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { dismiss(toast); }, Math.max(left, 2000));
    }
    toast.addEventListener("mouseenter", pause);
    toast.addEventListener("focusin", function () {
      if (toast.dataset.autofocused) { delete toast.dataset.autofocused; return; }
      pause();
    });
    toast.addEventListener("mouseleave", resume);
    toast.addEventListener("focusout", function () { window.setTimeout(resume, 0); });
  }

  function addToast(toast) {
    if (!toasts) { return; }
    toasts.appendChild(toast);
    startTimer(toast);
    var text = toast.querySelector(".toast-text");
    var undo = toast.querySelector("[data-undo] button");
    announce((text ? text.textContent.trim() : "") + (undo ? " Press Control+Z to undo." : ""));
    // The button that did it may be gone by now (a bulk bar hides with the selection): keep the keyboard here.
    // Focused this way the toast still times out; focused by the person, it waits.
    if (undo) {
      window.setTimeout(function () {
        var active = document.activeElement;
        var lost = !active || active === document.body || !active.isConnected || !active.checkVisibility();
        if (!undo.isConnected || !lost) { return; }
        toast.dataset.autofocused = "1";
        undo.focus({ preventScroll: true });
      }, 0);
    }
  }

  function showToasts(content) {
    content.querySelectorAll("[data-toast]").forEach(addToast);
  }

  function newestUndo() {
    var forms = toasts ? toasts.querySelectorAll("[data-undo]") : [];
    return forms.length ? forms[forms.length - 1] : null;
  }

  function undo(form) {
    var toast = form.closest("[data-toast]");
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    return post(form.action, new FormData(form)).then(function (answer) {
      if (!answer.ok) {
        if (button) { button.disabled = false; }
        return;
      }
      if (toast) { dismiss(toast); }
      var tiles = Array.prototype.slice.call(answer.content.querySelectorAll("figure[data-photo-id]"));
      document.dispatchEvent(new CustomEvent("glowworm:tiles-restored", { detail: { tiles: tiles } }));
    });
  }

  if (toasts) {
    // Messages the server rendered into the page: they get the same timer, and are read once.
    Array.prototype.forEach.call(toasts.querySelectorAll("[data-toast]"), function (toast) {
      startTimer(toast);
      var text = toast.querySelector(".toast-text");
      if (text) { announce(text.textContent.trim()); }
    });
    toasts.addEventListener("click", function (event) {
      var close = event.target.closest("[data-toast-close]");
      if (close) { dismiss(close.closest("[data-toast]")); }
    });
    toasts.addEventListener("submit", function (event) {
      var form = event.target.closest("[data-undo]");
      if (!form) { return; }
      event.preventDefault();
      undo(form);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "z" || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || event.target.isContentEditable) { return; }
    var form = newestUndo();
    if (!form) { return; }
    event.preventDefault();
    undo(form);
  });

  // --- the confirmation dialog -------------------------------------------------------------------------------

  var dialog = document.getElementById("confirm-dialog");

  function confirm(options) {
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm((options.title || "") + "\n" + (options.text || "")));
    }
    dialog.querySelector("#confirm-title").textContent = options.title || "Are you sure?";
    var text = dialog.querySelector("#confirm-text");
    text.textContent = options.text || "";
    text.hidden = !options.text;
    dialog.querySelector("#confirm-ok").textContent = options.ok || "OK";
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue === "ok"); }, { once: true });
      dialog.showModal();
    });
  }

  // Forms that ask first (data-confirm-title, -text, -ok): revoking a frame, deleting a playlist. Without
  // JavaScript they lead to a confirmation page instead (see the views).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm-title") || form.dataset.confirmed) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    // A count that changes on the page ("Empty trash" after restores): read now, and sent as `count`.
    var counter = form.dataset.countFrom && document.querySelector(form.dataset.countFrom);
    var fill = function (text) { return text || ""; };
    if (counter) {
      var n = Number(counter.dataset.count || 0);
      var photos = n.toLocaleString("en") + " photo" + (n === 1 ? "" : "s");
      fill = function (text) { return (text || "").replace(/\{photos\}/g, photos); };
      var field = form.querySelector("input[name=count]");
      if (field) { field.value = String(n); }
    }
    confirm({ title: fill(form.dataset.confirmTitle), text: fill(form.dataset.confirmText), ok: fill(form.dataset.confirmOk) })
      .then(function (yes) {
        if (!yes) { return; }
        form.dataset.confirmed = "1";
        var confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        confirmed.value = "1";
        form.appendChild(confirmed);
        form.requestSubmit(submitter || undefined);
      });
  });

  // --- field errors ------------------------------------------------------------------------------------------

  // An answer's `[data-error-for=name]` elements go under that field of the form, which points at them
  // (aria-describedby) and is marked invalid; the words are announced once.
  function showFieldErrors(form, content) {
    form.querySelectorAll("[data-error-for]").forEach(function (old) { old.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    });
    var first = null;
    content.querySelectorAll("[data-error-for]").forEach(function (error) {
      var field = form.querySelector("[name='" + error.dataset.errorFor + "']");
      if (!field) { return; }
      error.id = (field.id || field.name) + "-error";
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", error.id);
      field.insertAdjacentElement("afterend", error);
      if (!first) { first = field; announce(error.textContent.trim()); }
    });
    if (first) { first.focus(); }
    return Boolean(first);
  }

  // A page that comes back with a form's errors: the keyboard goes to the first field in error (its message is
  // read with it, through aria-describedby), or a form-wide error is read out once.
  var invalid = document.querySelector("main [aria-invalid='true']");
  var formError = document.querySelector("main [data-announce]");
  if (invalid) {
    invalid.focus();
  } else if (formError) {
    announce(formError.textContent.trim());
  }

  return {
    announce: announce,
    confirm: confirm,
    csrfToken: csrfToken,
    parse: parse,
    post: post,
    showFieldErrors: showFieldErrors,
    toast: function (text, level) { addToast(toastElement(text, level)); }
  };
})();
