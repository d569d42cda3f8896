// Glowworm duplicates page: each group's button says how many photos go to the trash, asks first ("Move 3 photos
// to the trash?"), and answers without a reload; Undo brings the group back. "Not duplicates" keeps a group
// apart for good.
(function () {
  "use strict";

  var hidden = []; // groups moved to the trash: { form, ids }, shown again on Undo

  function plural(n) { return n + " photo" + (n === 1 ? "" : "s"); }

  function leaving(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input[name=keep]"), function (box) { return !box.checked; });
  }

  function showCount(form) {
    var count = leaving(form).length;
    var kept = form.querySelectorAll("input[name=keep]:checked").length;
    form.querySelector("[data-dup-count]").textContent = String(count);
    form.querySelector("[data-dup-delete]").disabled = count === 0 || kept === 0;
  }

  function groupsLeft(delta) {
    var line = document.getElementById("group-count");
    var count = Math.max(0, Number(line.dataset.count) + delta);
    line.dataset.count = String(count);
    line.textContent = count + " group" + (count === 1 ? "" : "s") + " of photos that look alike";
    document.getElementById("no-duplicates").hidden = count > 0;
  }

  function setAside(form) {
    form.hidden = true;
    groupsLeft(-1);
    var next = form.nextElementSibling;
    var focus = next && next.matches("[data-dup-group]") ? next.querySelector("input[name=keep]") : null;
    if (focus) { focus.focus(); }
  }

  document.querySelectorAll("[data-dup-group]").forEach(function (form) {
    showCount(form);
    form.addEventListener("change", function () { showCount(form); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var submitter = event.submitter;
      var body = new FormData(form, submitter);
      var dismissing = submitter && submitter.hasAttribute("data-dup-dismiss");
      var ids = leaving(form).map(function (box) { return box.value; });
      var asked = dismissing ? Promise.resolve(true) : Glowworm.confirm({
        title: "Move " + plural(ids.length) + " to the trash?",
        text: "The ticked photos stay. Photos in the trash can be restored.",
        ok: "Move to trash"
      });
      asked.then(function (yes) {
        if (!yes) { return; }
        if (!dismissing) { body.set("confirmed", "1"); }
        Glowworm.post(form.action, body).then(function (answer) {
          if (!answer.ok) { return; }
          setAside(form);
          if (!dismissing) { hidden.push({ form: form, ids: ids }); }
        });
      });
    });
  });

  document.addEventListener("glowworm:tiles-restored", function (event) {
    var restored = new Set(event.detail.tiles.map(function (tile) { return tile.dataset.photoId; }));
    hidden = hidden.filter(function (entry) {
      if (!entry.ids.some(function (id) { return restored.has(id); })) { return true; }
      entry.form.hidden = false;
      groupsLeft(1);
      return false;
    });
  });
})();
