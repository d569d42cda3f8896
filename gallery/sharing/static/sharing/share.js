// Share links: copy buttons on the album's Share page; arrow keys and Escape on a shared photo.

function copyFrom(button) {
  const input = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".share-copied");
  const done = (text) => {
    if (status) status.textContent = text;
    // Said through the page's one live region (glowworm.js), where there is one.
    if (window.Glowworm) window.Glowworm.announce(text);
  };
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(() => done("Copied"), () => done("Press Ctrl+C"));
  } else {
    // Plain HTTP on a LAN has no clipboard API: the text is selected for the user to copy.
    done("Selected: press Ctrl+C");
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (button) copyFrom(button);
});

document.addEventListener("keydown", (event) => {
  const photo = document.querySelector("[data-share-photo]");
  if (!photo || event.altKey || event.ctrlKey || event.metaKey || event.target.closest("input, textarea")) return;
  const targets = { ArrowLeft: "[data-newer]", ArrowRight: "[data-older]", Escape: "[data-back]" };
  const link = targets[event.key] && photo.querySelector(targets[event.key]);
  if (link) {
    event.preventDefault();
    window.location.assign(link.href);
  }
});
