/*
 * Passkeys (features/passkeys): the WebAuthn ceremonies in the browser. The server does every check.
 *
 * Loaded on every page with the layout (Feature.scripts), because htmx does not run the scripts of
 * a page it swaps in; it wires, after each load or swap:
 *   [data-passkey-register]       the "Add a passkey" form on the security page
 *   [data-passkey-sign-in]        the "Sign in with a passkey" button, and conditional UI: passkeys
 *                                 offered in the autofill of the sign-in page's email field
 *   [data-passkey-second-factor]  the passkey option of the second-factor challenge page
 *   [data-passkey-reauth]         "Use a passkey" on the re-authentication page
 *   [data-passkey-sign-up]        "Create my passkey" behind the link of a passkey-first sign-up
 * Those elements are rendered `hidden` and shown here only when the browser supports WebAuthn.
 * In Node (the unit tests) it only exports the encoding helpers.
 */
(function () {
  "use strict";

  var API = "/api/auth/passkey/";

  // --- base64url <-> ArrayBuffer (WebAuthn's JSON encoding) -----------------------------------

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    var text = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: fromBase64url(item.id) });
    });
  }

  // Options JSON from the server -> the objects navigator.credentials expects.
  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromBase64url(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      allowCredentials: descriptors(json.allowCredentials),
    });
  }

  // A PublicKeyCredential -> the JSON the server verifies.
  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
    }
    return json;
  }

  var helpers = {
    toBase64url: toBase64url,
    fromBase64url: fromBase64url,
    creationOptions: creationOptions,
    requestOptions: requestOptions,
    credentialJSON: credentialJSON,
  };
  if (typeof module === "object" && module.exports) {
    module.exports = helpers;
    return;
  }
  window.passkeys = helpers;

  // --- talking to the server ----------------------------------------------------------------

  function post(path, body) {
    return fetch(API + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (answer) {
      return answer.json().then(
        function (data) {
          if (!answer.ok) throw Object.assign(new Error(data.message || "Something went wrong."), data);
          return data;
        },
        function () {
          throw new Error("Something went wrong (" + answer.status + "). Try again.");
        }
      );
    });
  }

  function say(root, message) {
    var status = root.querySelector("[data-passkey-status]");
    if (status) status.textContent = message || "";
  }

  function cancelled(error) {
    return error && (error.name === "NotAllowedError" || error.name === "AbortError");
  }

  // Browsers make passkeys for domain names only: on an IP address (http://127.0.0.1) the options stay hidden.
  var supported =
    typeof window.PublicKeyCredential === "function" &&
    !!navigator.credentials &&
    !/^[\d.]+$|:/.test(window.location.hostname);
  var conditional = null; // the AbortController of the pending autofill request

  function stopConditional() {
    if (conditional) conditional.abort();
    conditional = null;
  }

  // --- the ceremonies ---------------------------------------------------------------------------

  function register(form) {
    var name = form.querySelector("input[name=name]");
    var button = form.querySelector("button");
    button.disabled = true;
    say(form, "Follow your browser's prompt to create the passkey…");
    post("generate-register-options")
      .then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      })
      .then(function (credential) {
        return post("verify-registration", { response: credentialJSON(credential), name: name.value });
      })
      .then(function () {
        window.location.assign(window.location.pathname);
      })
      .catch(function (error) {
        button.disabled = false;
        if (error.code === "SESSION_NOT_FRESH") {
          window.location.assign("/reauthenticate?next=" + encodeURIComponent(window.location.pathname));
        } else if (error.name === "InvalidStateError") {
          say(form, "This device already has a passkey for your account.");
        } else {
          say(form, cancelled(error) ? "No passkey was created." : error.message);
        }
      });
  }

  function signIn(root, options, mediation, signal) {
    var request = { publicKey: requestOptions(options) };
    if (mediation) request.mediation = mediation;
    if (signal) request.signal = signal;
    return navigator.credentials.get(request).then(function (credential) {
      say(root, "Signing you in…");
      return post("verify-authentication", {
        response: credentialJSON(credential),
        callbackURL: root.getAttribute("data-next") || "/",
      }).then(function (answer) {
        window.location.assign(answer.url || root.getAttribute("data-next") || "/");
      });
    });
  }

  function signInWithButton(root) {
    stopConditional();
    say(root, "Follow your browser's prompt to use your passkey…");
    post("generate-authenticate-options")
      .then(function (options) {
        return signIn(root, options);
      })
      .catch(function (error) {
        say(root, cancelled(error) ? "Sign-in with a passkey was cancelled." : error.message);
        startConditional(root);
      });
  }

  function startConditional(root) {
    var email = document.querySelector("form[action='/sign-in'] input[name=email]");
    if (!email || !PublicKeyCredential.isConditionalMediationAvailable) return;
    // The webauthn token makes the browser offer passkeys in this field's autofill.
    email.setAttribute("autocomplete", "username webauthn");
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available || !root.isConnected) return;
      stopConditional();
      var controller = new AbortController();
      conditional = controller;
      return post("generate-authenticate-options").then(function (options) {
        return signIn(root, options, "conditional", controller.signal);
      });
    }).catch(function () {
      // Nobody asked for this request: a failure (aborted, no passkey, a site the browser refuses)
      // leaves the page as it is; the button still reports its own errors.
    });
  }

  // Passkey-first sign-up: the page behind the emailed link creates the passkey and the account.
  function signUp(root) {
    var token = root.getAttribute("data-token") || "";
    say(root, "Follow your browser's prompt to create the passkey…");
    post("sign-up/options", { token: token })
      .then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      })
      .then(function (credential) {
        return post("sign-up/verify", { token: token, response: credentialJSON(credential) });
      })
      .then(function (answer) {
        window.location.assign(answer.url || "/");
      })
      .catch(function (error) {
        say(root, cancelled(error) ? "No passkey was created. Press the button to try again." : error.message);
      });
  }

  // A passkey of the user already known (second factor, re-authentication): options, get, verify, go on.
  function confirm(root, base) {
    say(root, "Follow your browser's prompt to use your passkey…");
    post(base + "/options")
      .then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        return post(base + "/verify", {
          response: credentialJSON(credential),
          callbackURL: root.getAttribute("data-next") || "/",
        });
      })
      .then(function (answer) {
        window.location.assign(answer.url || root.getAttribute("data-next") || "/");
      })
      .catch(function (error) {
        say(root, cancelled(error) ? "No passkey was used." : error.message);
      });
  }

  // --- wiring -----------------------------------------------------------------------------------

  function wire(root) {
    if (!supported) return;
    var found = root.querySelectorAll(
      "[data-passkey-register], [data-passkey-sign-in], [data-passkey-second-factor], [data-passkey-reauth], " +
        "[data-passkey-sign-up]"
    );
    Array.prototype.forEach.call(found, function (element) {
      element.hidden = false;
      if (element.hasAttribute("data-passkey-sign-in")) startConditional(element);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("[data-passkey-register]");
    if (!form) return;
    event.preventDefault();
    register(form);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button");
    if (!button) return;
    var root = button.closest("[data-passkey-sign-in]");
    if (root) return signInWithButton(root);
    root = button.closest("[data-passkey-second-factor]");
    if (root) return confirm(root, "second-factor");
    root = button.closest("[data-passkey-reauth]");
    if (root) return confirm(root, "reauthenticate");
    root = button.closest("[data-passkey-sign-up]");
    if (root) signUp(root);
  });

  document.addEventListener("htmx:beforeSwap", stopConditional);
  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
  });
  document.addEventListener("htmx:load", function (event) {
    wire(event.target);
  });
})();
