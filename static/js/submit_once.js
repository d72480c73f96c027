/* A button cannot send its request twice: while a POST runs, the buttons that sent it are disabled.
 * The server does not rely on it (a create form's one-time key makes a repeat create nothing, see
 * app/services/submissions.py); it spares the user a confusing second answer.
 *
 *   plain forms  the first submit marks the form busy; any further submit is cancelled. Its submit
 *                buttons are disabled after the submission has collected their name and value (a
 *                disabled submitter would drop e.g. intent=submit). A page restored from the
 *                back-forward cache, or a response that never navigates (a download), frees them.
 *   htmx         a non-GET request disables the button that sent it, or the submit buttons of the
 *                form that sent it, until the request ends (hx-disabled-elt, for every element).
 */
(function () {
  "use strict";

  var FREE_AFTER_MS = 15000;

  function submitButtons(element) {
    if (element.tagName === "FORM") {
      return Array.prototype.slice.call(element.querySelectorAll("button:not([type=button]), input[type=submit]"))
        .concat(element.id ? Array.prototype.slice.call(document.querySelectorAll("[form='" + element.id + "']")) : []);
    }
    return element.matches("button, input[type=submit]") ? [element] : [];
  }

  function hold(buttons) {
    buttons.forEach(function (button) {
      if (button.disabled) return;  // disabled by the server's own rules: not ours to free
      button.disabled = true;
      button.setAttribute("data-busy", "");
      button.setAttribute("aria-busy", "true");
    });
  }

  function free(root) {
    (root.hasAttribute && root.hasAttribute("data-busy") ? [root] : [])
      .concat(Array.prototype.slice.call(root.querySelectorAll("[data-busy]")))
      .forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("data-busy");
        button.removeAttribute("aria-busy");
      });
  }

  function isHtmxForm(form) {
    return form.hasAttribute("hx-post") || form.hasAttribute("hx-put") || form.hasAttribute("hx-patch") ||
      form.hasAttribute("hx-delete") || form.hasAttribute("data-hx-post");
  }

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if ((form.method || "").toLowerCase() !== "post" || isHtmxForm(form)) return;
    if (form.hasAttribute("data-submitting")) {
      evt.preventDefault();
      return;
    }
    if (evt.defaultPrevented) return;
    form.setAttribute("data-submitting", "");
    // A later listener may still cancel this submit: look again once every listener has run.
    setTimeout(function () {
      if (evt.defaultPrevented) {
        form.removeAttribute("data-submitting");
        return;
      }
      hold(submitButtons(form));
      setTimeout(function () {
        form.removeAttribute("data-submitting");
        free(form);
      }, FREE_AFTER_MS);
    }, 0);
  });

  window.addEventListener("pageshow", function (evt) {
    if (!evt.persisted) return;
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submitting]"), function (form) {
      form.removeAttribute("data-submitting");
    });
    free(document);
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var config = evt.detail.requestConfig;
    if (!config || (config.verb || "get").toLowerCase() === "get") return;
    hold(submitButtons(evt.detail.elt));
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    free(evt.detail.elt);
  });
})();
