/*
 * API keys page (features/api_keys): the Copy button next to a new key.
 *
 * Loaded on every page with the layout (Feature.scripts), because htmx does not run the scripts
 * of a page it swaps in; it acts by event delegation on buttons with `data-copy-target` (the id
 * of the input to copy) and `data-copy-status` (the id of a live region to report in). Those
 * buttons are rendered `hidden`: without JavaScript the key is still there to select and copy.
 */
(function () {
  "use strict";

  function reveal(root) {
    var buttons = root.querySelectorAll("button[data-copy-target][hidden]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
    });
  }

  function report(button, copied) {
    var status = document.getElementById(button.getAttribute("data-copy-status") || "");
    var label = button.querySelector(".btn__label") || button;
    label.textContent = copied ? "Copied" : "Copy";
    if (status) {
      status.textContent = copied
        ? "Copied to the clipboard."
        : "Copying was blocked: the key is selected, press Ctrl+C (or Cmd+C) to copy it.";
    }
  }

  function legacyCopy(input) {
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy-target]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) return;
    input.focus();
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () {
          report(button, true);
        },
        function () {
          report(button, legacyCopy(input));
        }
      );
    } else {
      report(button, legacyCopy(input));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.querySelectorAll) reveal(event.target);
  });
})();
