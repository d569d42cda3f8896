// Glowworm favourites: the stars on tiles and in the photo view (gallery/_star.html), and the F key.
// A star is a submit button of the page's #favorite-form, so it works without JavaScript; here it is sent with
// fetch (CSRF token included), every star of that photo on the page flips at once (aria-pressed) and the live
// region says what happened. F stars the photo in the open photo view, else the focused tile.
(function () {
  "use strict";

  function stars(id) { return document.querySelectorAll("[data-favorite='" + id + "']"); }

  function show(id, on) {
    stars(id).forEach(function (star) {
      star.setAttribute("aria-pressed", on ? "true" : "false");
      star.value = on ? "0" : "1";
    });
  }

  function toggle(star) {
    var id = star.dataset.favorite;
    var on = star.getAttribute("aria-pressed") !== "true";
    show(id, on);
    var body = new FormData();
    body.set("favorite", on ? "1" : "0");
    Glowworm.post(star.getAttribute("formaction"), body).then(function (answer) {
      if (!answer.ok) { show(id, !on); return; }
      Glowworm.announce(on ? "Added to favourites." : "Removed from favourites.");
      document.dispatchEvent(new CustomEvent("glowworm:favorite-changed", { detail: { id: Number(id), favorite: on } }));
    });
  }

  document.addEventListener("click", function (event) {
    var star = event.target.closest("[data-favorite]");
    if (!star || !star.getClientRects().length) { return; }  // no star shown here (pickers, the trash)
    event.preventDefault();
    toggle(star);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "f" && event.key !== "F") { return; }
    if (event.altKey || event.ctrlKey || event.metaKey || document.querySelector("dialog[open]")) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.target.isContentEditable) { return; }
    var star = document.querySelector(".viewer .lightbox-star") || document.querySelector(".lightbox-star");
    if (!star) {
      var tile = document.activeElement && document.activeElement.closest && document.activeElement.closest("figure[data-photo-id]");
      star = tile && tile.querySelector("[data-favorite]");
    }
    if (!star || !star.getClientRects().length) { return; }  // no star shown here (pickers, the trash)
    event.preventDefault();
    toggle(star);
  });

  // A pushed tile is rendered for no one in particular, so it comes without this account's star: keep the one
  // the tile had.
  var starred = new Set();
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var old = event.detail.target;
    var star = old && old.querySelector && old.querySelector("[data-favorite]");
    if (star && star.getAttribute("aria-pressed") === "true") { starred.add(star.dataset.favorite); }
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    starred.forEach(function (id) { show(id, true); });
    starred.clear();
  });
})();
