/*
 * Progressive enhancement only: every page works without this file (and without htmx).
 *
 * - After htmx swaps a page in, move the focus where a keyboard or screen-reader user needs
 *   it: the first invalid field, else the form's error message, else the page heading.
 * - Boosted requests that fail (403, 404, 500 ...) still show the error page that came back.
 * - Password fields get a Show/Hide button.
 * - A row removed in place (a signed-out session, [data-removable]) hands the focus to a neighbour.
 * - <time data-local> shows its moment in the reader's own time zone (the server writes UTC).
 *
 * Loaded with `defer` from layouts/base.html; no inline script anywhere (strict CSP).
 */
(function () {
  "use strict";

  function focusAfterSwap(root) {
    var active = document.activeElement;
    // htmx has already focused an [autofocus] element of the new content (the first invalid field).
    if (active && active !== document.body && root.contains(active)) return;
    var target =
      root.querySelector('[aria-invalid="true"]') ||
      root.querySelector('[role="alert"][tabindex]') ||
      root.querySelector("h1[tabindex]");
    if (target) target.focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail && event.detail.target;
    if (root && root.nodeType === 1) focusAfterSwap(root);
  });

  // The htmx-config in the layout does not swap 4xx/5xx answers; for a boosted navigation the
  // answer is a full HTML error page, which the user should see rather than nothing happening.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var type = (detail.xhr && detail.xhr.getResponseHeader("content-type")) || "";
    if (detail.boosted && detail.xhr.status >= 400 && type.indexOf("text/html") === 0) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  // The focused button goes with its row: hand the focus to the next row's button, else the list.
  // (htmx's later events fire on the removed row, out of the document, so this is scheduled here.)
  document.addEventListener("htmx:beforeSwap", function (event) {
    var row = event.detail.target;
    if (!row || !row.matches || !row.matches("[data-removable]") || !event.detail.shouldSwap) return;
    var neighbour = row.nextElementSibling || row.previousElementSibling;
    var next = (neighbour && neighbour.querySelector("button")) || row.parentElement;
    var card = row.closest(".card");
    var hint = card && card.querySelector(".resume-alert"); // "press Sign out again": done now
    setTimeout(function () {
      if (document.contains(row)) return;
      if (hint) hint.remove();
      if (next && document.contains(next)) next.focus();
    }, 0);
  });

  function localTimes(root) {
    var times = root.querySelectorAll("time[data-local]");
    Array.prototype.forEach.call(times, function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      time.textContent = moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    });
  }

  function setVisible(input, button, visible) {
    input.type = visible ? "text" : "password";
    button.firstChild.textContent = visible ? "Hide" : "Show";
  }

  function addPasswordToggles(root) {
    var inputs = root.querySelectorAll('input[type="password"]:not([data-has-toggle])');
    Array.prototype.forEach.call(inputs, function (input) {
      var button = document.createElement("button");
      var hint = document.createElement("span");
      button.type = "button";
      button.className = "password-toggle";
      button.setAttribute("aria-controls", input.id);
      button.appendChild(document.createTextNode("Show"));
      hint.className = "visually-hidden";
      hint.textContent = " password";
      button.appendChild(hint);
      button.addEventListener("click", function () {
        setVisible(input, button, input.type === "password");
      });
      // Back to a password field before submitting, so the browser treats it as one.
      if (input.form) {
        input.form.addEventListener("submit", function () {
          setVisible(input, button, false);
        });
      }
      input.setAttribute("data-has-toggle", "");
      input.insertAdjacentElement("afterend", button);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    addPasswordToggles(document);
    localTimes(document);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.querySelectorAll) {
      addPasswordToggles(event.target);
      localTimes(event.target);
    }
  });
})();
