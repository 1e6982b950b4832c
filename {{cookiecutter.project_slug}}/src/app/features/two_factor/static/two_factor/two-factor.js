/*
 * Two-step verification (features/two_factor): copy the set-up key, and download or copy the
 * recovery codes as text.
 *
 * Loaded on every page (Feature.scripts) because htmx does not run a swapped page's scripts; it
 * acts by event delegation on `data-tf-copy` / `data-tf-download` buttons (naming the id of the
 * element whose text they take). The buttons are rendered `hidden`: without JavaScript the key and
 * the codes are still on the page to select and copy. No inline script, so the strict CSP holds.
 */
(function () {
  "use strict";

  function reveal(root) {
    var buttons = root.querySelectorAll("button[data-tf-copy][hidden], button[data-tf-download][hidden]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
    });
  }

  function textOf(element) {
    if (element.hasAttribute("data-secret")) return element.getAttribute("data-secret");
    var codes = element.querySelectorAll("code");
    if (!codes.length) return element.textContent.trim();
    var lines = Array.prototype.map.call(codes, function (code) {
      return code.textContent.trim();
    });
    var heading = element.getAttribute("data-heading");
    return (heading ? heading + "\n\n" : "") + lines.join("\n") + "\n";
  }

  function say(message) {
    var status = document.querySelector("[data-tf-status]");
    if (status) status.textContent = message;
  }

  function copy(button, text) {
    var label = button.querySelector(".btn__label") || button;
    var original = label.getAttribute("data-label") || label.textContent;
    label.setAttribute("data-label", original);
    function done(ok) {
      label.textContent = ok ? "Copied" : original;
      say(ok ? "Copied to the clipboard." : "Copying was blocked: select the text and copy it yourself.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          done(true);
        },
        function () {
          done(false);
        }
      );
    } else {
      done(false);
    }
  }

  function download(element) {
    var blob = new Blob([textOf(element)], { type: "text/plain;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = element.getAttribute("data-filename") || "recovery-codes.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(link.href);
    }, 1000);
    say("Downloaded " + link.download + ".");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-tf-copy], button[data-tf-download]");
    if (!button) return;
    var id = button.getAttribute("data-tf-copy") || button.getAttribute("data-tf-download");
    var element = document.getElementById(id);
    if (!element) return;
    if (button.hasAttribute("data-tf-download")) download(element);
    else copy(button, textOf(element));
  });

  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    reveal(event.target || document);
  });
})();
