// Glowworm library page: the filter form, the grid layout toggle and the date scrubber.
// - The filter form is a plain GET form (gallery/_filters.html): here its empty fields stay out of the URL, and a
//   changed select or date applies at once.
// - The layout toggle (gallery/_layout_toggle.html) switches the grid between justified and square at once and
//   remembers the choice in a cookie, which the server reads to render the next page the same way.
// - The scrubber (gallery/_scrubber.html) is open beside the grid on wide screens, behind a button on phones; the
//   arrow keys move through its links, Escape closes it on phones.
(function () {
  "use strict";

  document.querySelectorAll("form[data-filters]").forEach(function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && !field.value) { field.disabled = true; }
      });
      // Back to this page from the next one: the fields must work again (bfcache keeps them disabled).
      window.addEventListener("pageshow", function () {
        Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
      }, { once: true });
    });
    // "More filters" closes like a menu: its × button, Escape, or a click elsewhere.
    var more = form.querySelector("[data-filter-more]");
    if (more) {
      var closeButton = more.querySelector("[data-filter-close]");
      closeButton.hidden = false;
      var close = function () { more.open = false; more.querySelector("summary").focus(); };
      closeButton.addEventListener("click", close);
      more.addEventListener("keydown", function (event) { if (event.key === "Escape" && more.open) { close(); } });
      document.addEventListener("click", function (event) {
        if (more.open && !more.contains(event.target)) { more.open = false; }
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.matches("select, input[type=date]")) { form.requestSubmit(); }
    });
  });

  document.querySelectorAll("[data-layout-toggle]").forEach(function (toggle) {
    var grid = document.getElementById("grid");
    if (!grid) { return; }
    toggle.hidden = false;
    toggle.addEventListener("click", function (event) {
      var button = event.target.closest("[data-layout]");
      if (!button) { return; }
      var layout = button.dataset.layout;
      toggle.querySelectorAll("[data-layout]").forEach(function (each) {
        each.setAttribute("aria-pressed", each === button ? "true" : "false");
      });
      grid.classList.remove("grid--justified", "grid--square");
      grid.classList.add("grid--" + layout);
      document.cookie = "grid_layout=" + layout + "; path=/; max-age=31536000; SameSite=Lax";
      Glowworm.announce(layout === "square" ? "Square tiles." : "Justified rows: each photo in its own shape.");
    });
  });

  var wide = window.matchMedia("(min-width: 900px)");
  document.querySelectorAll("[data-scrubber]").forEach(function (scrubber) {
    var panel = scrubber.querySelector("[data-scrubber-panel]");
    function fit() { panel.open = wide.matches; }
    fit();
    wide.addEventListener("change", fit);
    // The month shown (after a jump) is in view in the scrubber too.
    var current = scrubber.querySelector("[aria-current]");
    if (current && wide.matches) {
      var offset = current.getBoundingClientRect().top - scrubber.getBoundingClientRect().top;
      scrubber.scrollTop += offset - scrubber.clientHeight / 2;
    }
    scrubber.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !wide.matches && panel.open) {
        panel.open = false;
        panel.querySelector("summary").focus();
        return;
      }
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp" && event.key !== "Home" && event.key !== "End") { return; }
      var links = Array.prototype.slice.call(scrubber.querySelectorAll(".scrubber-years a"));
      var at = links.indexOf(document.activeElement);
      if (at < 0) { return; }
      event.preventDefault();
      var next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: links.length - 1 }[event.key];
      if (links[next]) { links[next].focus(); }
    });
  });
})();
