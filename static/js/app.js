/* Site-wide behaviour: server messages as toasts, 422 form re-renders, kiosk idle logout. */
(function () {
  "use strict";

  // 422 carries a re-rendered form with inline errors: swap it. Other errors become toasts.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + (kind || "error");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "×");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, kind === "error" ? 8000 : 4000);
  }
  window.appToast = toast;

  function decodedMessage(header) {
    if (!header) return null;
    try { return decodeURIComponent(header); } catch (e) { return header; }
  }

  function serverMessage(xhr) {
    return decodedMessage(xhr && xhr.getResponseHeader("X-Message")) || document.body.dataset.msgError;
  }

  // A POST as htmx would send it, for scripts that cannot use htmx (drag and drop): the CSRF token, and
  // HX-Request so that a refusal comes back with its message in X-Message. Like an htmx answer's, the
  // event the change committed is handed to live.js (its next re-fetch names it: docs/LIVE.md §6).
  // Resolves to { response, message }.
  window.appPost = function (url, body) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": meta ? meta.content : "", "HX-Request": "true" }
    }).then(function (response) {
      var committed = response.headers.get("X-Live-Event-Id");
      if (committed) document.dispatchEvent(new CustomEvent("live:committed", { detail: committed }));
      return { response: response, message: decodedMessage(response.headers.get("X-Message")) };
    });
  };

  document.addEventListener("htmx:responseError", function (evt) {
    toast(serverMessage(evt.detail.xhr), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.body.dataset.msgNetwork, "error");
  });
  // A successful action may announce itself with X-Message too.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (evt.detail.successful && xhr && xhr.getResponseHeader("X-Message")) {
      toast(serverMessage(xhr), "success");
    }
  });

  // Kiosk: leave the session when nobody has touched the screen for the configured time.
  var idleSeconds = parseInt(document.body.dataset.idleSeconds || "0", 10);
  var idleLogoutForm = document.getElementById("idle-logout");
  if (idleSeconds > 0 && idleLogoutForm) {
    var timer;
    var reset = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { idleLogoutForm.submit(); }, idleSeconds * 1000);
    };
    ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
      document.addEventListener(name, reset, { passive: true });
    });
    reset();
  }
})();
