// The org switcher: Escape closes it and gives the focus back to its button; a click elsewhere closes it.
// Attached by delegation, so it keeps working after htmx swaps the header in.
(() => {
  "use strict";
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = document.querySelector("details.orgswitch[open]");
    if (!open) return;
    open.removeAttribute("open");
    open.querySelector("summary")?.focus();
  });
  document.addEventListener("click", (event) => {
    const open = document.querySelector("details.orgswitch[open]");
    if (open && !open.contains(event.target)) open.removeAttribute("open");
  });
})();
