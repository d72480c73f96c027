/* Small page behaviours declared with data- attributes, so templates need no inline handlers
 * (the Content-Security-Policy forbids them, and htmx runs with allowEval off):
 *
 *   data-remove-closest="<selector>"  click removes the closest matching ancestor;
 *                                     data-then-trigger="<event>" then fires <event> on <body>
 *   data-submit-on-change             a change submits the element's form — except a select's change made
 *                                     with the arrow keys, which waits for Enter (or the form's button), so
 *                                     a keyboard user can pass over the options without leaving the page
 *   data-confirm="<question>"         a form asks before it is submitted
 *   data-print                        click opens the print dialog
 *   <dialog data-modal>               opens (modal, in view, first field focused) when htmx swaps
 *                                     content into it; data-close-dialog inside closes it
 *   #bell-menu / #bell-panel          the panel loads ("bell-refresh") when opened, and reloads on
 *                                     live events only while it is open
 */
(function () {
  "use strict";

  document.addEventListener("click", function (evt) {
    var remover = evt.target.closest("[data-remove-closest]");
    if (remover) {
      var doomed = remover.closest(remover.getAttribute("data-remove-closest"));
      var follow = remover.getAttribute("data-then-trigger");
      if (doomed) doomed.remove();
      if (follow && window.htmx) htmx.trigger(document.body, follow);
      return;
    }
    if (evt.target.closest("[data-print]")) window.print();
    var closer = evt.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) closer.closest("dialog").close();
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    var dialog = evt.detail.target;
    if (!dialog.matches || !dialog.matches("dialog[data-modal]")) return;
    if (!dialog.open) dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), textarea, select");
    if (first) first.focus();
  });

  // A live region holding an open modal waits: re-fetching it would throw away what is being typed.
  // It refreshes once the dialog closes. ("close" does not bubble: listen in the capture phase.)
  // Both before the request and, for one already on its way when the dialog opened, before the swap.
  function deferredLiveRefresh(region, cause) {
    if (!cause || cause.type !== "live-refresh" || !region || !region.querySelector) return false;
    if (!region.querySelector("dialog[data-modal][open]")) return false;
    region.setAttribute("data-live-deferred", "");
    return true;
  }
  document.addEventListener("htmx:confirm", function (evt) {
    if (deferredLiveRefresh(evt.detail.elt, evt.detail.triggeringEvent)) evt.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var config = evt.detail.requestConfig;
    if (deferredLiveRefresh(evt.detail.elt, config && config.triggeringEvent)) evt.detail.shouldSwap = false;
  });
  // A live refresh of the region that swapped in while a dialog's content was on its way left the
  // request's target detached: the content goes to the dialog of the same id now in the page. htmx fires
  // beforeSwap on the target, and a detached one's events never reach the document: the dialog listens itself.
  function retargetDetachedDialog(evt) {
    var target = evt.detail.target;
    if (target && target.id && !target.isConnected) evt.detail.target = document.getElementById(target.id) || target;
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var target = evt.detail.target;
    if (!target || !target.matches || !target.matches("dialog[data-modal]") || target._retargetsWhenDetached) return;
    target._retargetsWhenDetached = true;
    target.addEventListener("htmx:beforeSwap", retargetDetachedDialog);
  });
  document.addEventListener("close", function (evt) {
    if (!evt.target.matches || !evt.target.matches("dialog[data-modal]")) return;
    var region = evt.target.closest("[data-live-deferred]");
    if (!region) return;
    region.removeAttribute("data-live-deferred");
    if (window.htmx) htmx.trigger(region, "live-refresh");
  }, true);
  var keyedSelect = null;  // the select whose value the keyboard is changing
  document.addEventListener("keydown", function (evt) {
    var field = evt.target.closest && evt.target.closest("select[data-submit-on-change]");
    if (!field) return;
    if (evt.key === "Enter" && field.form) {
      evt.preventDefault();
      field.form.requestSubmit();
    } else {
      keyedSelect = field;
    }
  });
  document.addEventListener("pointerdown", function () { keyedSelect = null; }, true);

  document.addEventListener("change", function (evt) {
    var field = evt.target.closest("[data-submit-on-change]");
    if (!field || !field.form || field === keyedSelect) return;
    field.form.requestSubmit();
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) evt.preventDefault();
  });

  // The notifications bell. "toggle" does not bubble: listen in the capture phase.
  function refreshOpenBell() {
    var menu = document.getElementById("bell-menu");
    var panel = document.getElementById("bell-panel");
    if (menu && panel && menu.open && window.htmx) htmx.trigger(panel, "bell-refresh");
  }
  document.addEventListener("toggle", function (evt) {
    if (evt.target.id === "bell-menu") refreshOpenBell();
  }, true);
  document.addEventListener("live-refresh", function (evt) {
    if (evt.target.id === "bell-panel") refreshOpenBell();
  });
  document.addEventListener("notifications-changed", refreshOpenBell);
})();
