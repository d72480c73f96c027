/* Kiosk helpers: +/- quick buttons, a barcode scanner that types anywhere, and open panels that
   survive a list refresh (a live push must not wipe the numbers an operator is typing). */
(function () {
  "use strict";

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-for]");
    if (!button) return;
    var input = document.getElementById(button.dataset.for);
    if (!input) return;
    if (button.dataset.set !== undefined) {
      input.value = button.dataset.set;
    } else {
      input.value = (parseInt(input.value, 10) || 0) + parseInt(button.dataset.add, 10);
    }
  });

  // A keyboard-wedge scanner "types" the code and Enter; when no field has the focus, send it to the scan field.
  document.addEventListener("keydown", function (evt) {
    var active = document.activeElement;
    var typing = active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    if (typing || evt.ctrlKey || evt.metaKey || evt.altKey || evt.key.length !== 1) return;
    var field = document.getElementById("scan-code");
    if (field) field.focus();
  });

  var openPanels = [];
  var focusedId = null;

  function panelState(panel) {
    var values = {};
    panel.querySelectorAll("input:not([type=hidden])").forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) values[input.name] = input.value;
      } else {
        values[input.name] = input.value;
      }
    });
    return { card: panel.closest(".task-card").id, action: panel.dataset.action, values: values };
  }

  function restore(state) {
    var card = document.getElementById(state.card);
    var panel = card && card.querySelector('details.tc-panel[data-action="' + state.action + '"]');
    if (!panel) return;
    panel.open = true;
    Object.keys(state.values).forEach(function (name) {
      panel.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        if (input.type === "radio" || input.type === "checkbox") {
          input.checked = input.value === state.values[name];
        } else {
          input.value = state.values[name];
        }
      });
    });
  }

  // A live region is replacing itself; a card replaced by its own action's answer starts afresh.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var region = evt.detail.target;
    if (!region.querySelectorAll || region.classList.contains("task-card")) return;
    region.querySelectorAll("details.tc-panel[open]").forEach(function (panel) {
      openPanels.push(panelState(panel));
    });
    var active = document.activeElement;
    if (active && active.id && region.contains(active)) focusedId = active.id;
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!openPanels.length && !focusedId) return;
    openPanels.forEach(restore);
    openPanels = [];
    var focused = focusedId && document.getElementById(focusedId);
    if (focused) focused.focus();
    focusedId = null;
  });

  // An open job ticket (详情) stays open when its card is drawn again (after an action, a live push or a list
  // refresh, in whichever order the regions come back): the operator's open tickets are remembered by card,
  // and a new card of one is opened, which fetches its ticket afresh.
  var openTickets = new Set();

  document.addEventListener("toggle", function (evt) {  // toggle does not bubble: listen while capturing
    var ticket = evt.target;
    var card = ticket.matches && ticket.matches("details.tc-ticket") && ticket.closest(".task-card");
    if (!card) return;
    if (ticket.open) openTickets.add(card.id); else openTickets.delete(card.id);
  }, true);

  // Only inside the content that has just settled: htmx has processed it, so opening it fetches the ticket
  // (another region may hold a copy of the card that htmx has not processed yet; its own settle comes later).
  document.addEventListener("htmx:afterSettle", function (evt) {
    var settled = evt.target;
    if (!settled.querySelectorAll) return;
    openTickets.forEach(function (cardId) {
      settled.querySelectorAll('[id="' + cardId + '"] > details.tc-ticket:not([open])').forEach(function (ticket) {
        ticket.open = true;
      });
    });
  });
})();
