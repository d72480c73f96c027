/* Kiosk helpers: +/- quick buttons, a barcode scanner that types anywhere, open panels that survive a list
   refresh (a live push must not wipe the numbers an operator is typing), and focus that stays with the work:
   after a card action it lands on that card's next primary action (or its first refused field), never on
   <body> — the card is replaced by the answer and then often moved to another list by a refresh. */
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

  // A keyboard-wedge scanner "types" the code and Enter. Its characters go to the scan field unless the focus is
  // where typed characters mean something (a text field, a select). Space and Enter are never taken: they press
  // the focused button or open the focused panel. A letter or digit typed on a button goes to the scan field,
  // so a code scanned while a card's button has the focus does not end with its Enter pressing that button.
  var TYPING = /^(INPUT|TEXTAREA|SELECT)$/;
  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.key.length !== 1 || evt.key === " ") return;
    var active = document.activeElement;
    var typing = active && (TYPING.test(active.tagName) || active.isContentEditable);
    if (typing && !(active.type === "radio" || active.type === "checkbox")) return;
    var field = document.getElementById("scan-code");
    if (field) field.focus();
  });

  // ---- focus after a card action
  var focusCardId = null;  // the card whose action is under way; cleared when the user acts again
  var savedFocus = null;   // where the focus was inside a region that a refresh is replacing
  var PENDING_MS = 3000;   // how long a panel or focus to restore waits for its card to reappear

  function isPostFromCard(evt) {
    var card = evt.detail.elt.closest && evt.detail.elt.closest(".task-card");
    return card && evt.detail.requestConfig && evt.detail.requestConfig.verb === "post" ? card : null;
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var card = isPostFromCard(evt);
    if (card) focusCardId = card.id;
  });
  ["keydown", "pointerdown"].forEach(function (name) {
    document.addEventListener(name, function () { focusCardId = null; savedFocus = null; }, true);
  });

  function focusable(el) {
    if (!el.matches("a, button, input, select, textarea, summary, [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus();
    return el;
  }

  // The card's first refused field; else its next primary action (the server lists it first); else the card.
  function focusCard(card) {
    var invalid = card.querySelector('[aria-invalid="true"]');
    if (invalid) return focusable(invalid);
    var primary = card.querySelector(".tc-actions > form > button, .tc-actions > details > summary");
    return focusable(primary || card);
  }

  // A card that left the page (completed, or no longer mine): the list it was in.
  function focusWhereCardWas() {
    var heading = document.querySelector("#kiosk-mine .kiosk-h") || document.querySelector(".kiosk-h");
    if (heading) focusable(heading);
  }

  function applyActionFocus() {
    var card = document.getElementById(focusCardId);
    if (card) { focusCard(card); } else { focusWhereCardWas(); }
  }

  // Where the focus is inside a card, as something that survives the card being rendered again.
  function focusKey(el) {
    if (el.id) return { id: el.id, at: Date.now() };
    var card = el.closest(".task-card");
    if (!card) return null;
    var all = Array.prototype.slice.call(card.querySelectorAll("button, summary, input, a, select, textarea"));
    return { card: card.id, index: all.indexOf(el), at: Date.now() };
  }

  // Returns whether it is done (focused, or given up after a while: the card may have gone for good).
  function restoreFocus(key) {
    var el = key.id && document.getElementById(key.id);
    if (!el && key.card) {
      var card = document.getElementById(key.card);
      el = card && card.querySelectorAll("button, summary, input, a, select, textarea")[key.index];
      if (!el && card) el = card;
    }
    if (el && el.offsetParent !== null) {
      focusable(el);
      return true;
    }
    return Date.now() - key.at > PENDING_MS;
  }

  var openPanels = [];

  function panelState(panel) {
    var values = {};
    panel.querySelectorAll("input:not([type=hidden])").forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) values[input.name] = input.value;
      } else {
        values[input.name] = input.value;
      }
    });
    return { card: panel.closest(".task-card").id, action: panel.dataset.action, values: values, at: Date.now() };
  }

  // Returns whether the card was there to restore: one list may be swapped before the list the card moved to.
  function restore(state) {
    var card = document.getElementById(state.card);
    var panel = card && card.querySelector('details.tc-panel[data-action="' + state.action + '"]');
    if (!panel) return Date.now() - state.at > PENDING_MS;
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
    return true;
  }

  // A live region is replacing itself; a card replaced by its own action's answer starts afresh.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var region = evt.detail.target;
    if (!region.querySelectorAll || region.classList.contains("task-card")) return;
    region.querySelectorAll("details.tc-panel[open]").forEach(function (panel) {
      openPanels.push(panelState(panel));
    });
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active)) savedFocus = focusKey(active);
  });

  document.addEventListener("htmx:afterSwap", function () {
    openPanels = openPanels.filter(function (state) { return !restore(state); });
    // At once, in the task that swapped: until settle (20 ms later) the focus is on the page's body, and a key
    // pressed then (Tab) would start from there and clear what is to be restored.
    if (!focusCardId && savedFocus && restoreFocus(savedFocus)) savedFocus = null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (focusCardId) {
      applyActionFocus();
      savedFocus = null;
    } else if (savedFocus && restoreFocus(savedFocus)) {
      savedFocus = null;
    }
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
