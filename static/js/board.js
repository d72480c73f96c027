/* 主管看板: move a task card onto an operator's column (or back to 未分配); 分派规则: reorder the rules.
 *
 * Two ways in, one path out (moveCard): dragging with SortableJS (static/vendor, loaded before this
 * file; mouse, touch and pen), and the select + 分配 button on every card (the keyboard's way). A started
 * task asks for a reason in the <dialog> first. The card moves at once; the server's answer
 * refreshes the two columns the move touched and the head (column-refresh: each is a live region of its
 * own, docs/LIVE.md §6), which also puts a refused card back where it was.
 */
(function () {
  "use strict";

  var STARTED = { in_progress: true, paused: true };

  function boardRoot() { return document.getElementById("supervisor-board"); }

  // A move's answer (the server says board-refresh, or the move failed): the column the card came from, the
  // one it went to, and the head (loads, the cards' operator choices) fetch themselves again, not the board.
  function refreshMove(card) {
    var move = card._move;
    card._move = null;
    if (!move) { return; }
    [move.from, move.to, "sv-summary"].forEach(function (id) {
      var region = document.getElementById(id);
      if (region) { htmx.trigger(region, "column-refresh"); }
    });
  }
  // The answer's board-refresh is triggered on the card and would bubble to the whole board (which listens
  // for it on body, for anything else that asks): stopped on its way down, the move's parts refresh instead.
  document.addEventListener("board-refresh", function (evt) {
    var card = evt.target && evt.target.closest && evt.target.closest(".sv-card");
    if (card && card._move) {
      evt.stopPropagation();
      refreshMove(card);
    }
  }, true);

  function askReason(callback) {
    var dialog = document.getElementById("reason-dialog");
    var input = document.getElementById("reason-input");
    var error = document.getElementById("reason-error");
    input.value = "";
    error.hidden = true;
    dialog.onclose = null;
    document.getElementById("reason-cancel").onclick = function () { dialog.close("cancel"); };
    document.getElementById("reason-form").onsubmit = function (evt) {
      if (!input.value.trim()) { evt.preventDefault(); error.hidden = false; return; }
    };
    dialog.onclose = function () {
      if (dialog.returnValue === "confirm" && input.value.trim()) { callback(input.value.trim()); }
    };
    dialog.showModal();
    input.focus();
  }

  // Why this card may not go to this column, or "": its 施工单 is stopped, or the operator is at
  // the cap. The server renders both reasons; the board never sends a move that must fail.
  function refusal(card, column) {
    if (card.getAttribute("data-operator") === column.getAttribute("data-drop-operator")) { return ""; }
    return card.getAttribute("data-blocked") || column.getAttribute("data-refusal") || "";
  }

  function moveCard(card, column) {
    var target = column.getAttribute("data-drop-operator");
    var current = card.getAttribute("data-operator");
    if (target === current) { return; }
    var refused = refusal(card, column);
    if (refused) {
      if (window.appToast) { window.appToast(refused, "error"); }
      return;
    }
    var send = function (reason) {
      var form = card.querySelector("form.sv-assign");
      var values = { version: card.getAttribute("data-version"), reason: reason || "" };
      var csrf = form.querySelector("input[name=csrf_token]");
      if (csrf) { values.csrf_token = csrf.value; }
      var url = form.getAttribute("action");
      if (target) { values.operator_id = target; } else {
        url = form.querySelector("[data-unassign-url]").getAttribute("data-unassign-url");
      }
      var empty = column.querySelector(".sv-empty");
      if (empty) { empty.remove(); }
      var from = card.closest(".sv-column");
      card._move = { from: from && from.id, to: column.id };
      column.appendChild(card);  // moving the card takes the focus from it: give it back, in its new column
      card.setAttribute("data-operator", target);
      var select = card.querySelector("select[name=operator_id]");
      if (select) { select.value = target; select.focus(); }
      htmx.ajax("POST", url, { source: card, values: values, swap: "none" });
    };
    if (STARTED[card.getAttribute("data-status")] && current) { askReason(send); } else { send(""); }
  }

  // The board re-renders itself (live push, refused move): the focused control of a card is focused again in
  // the card's new place, so a keyboard user is not sent back to the top of the page.
  var focusedOnBoard = null;
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var active = document.activeElement;
    var card = active && active.closest && active.closest(".sv-card");
    var target = evt.detail.target;
    if (card && boardRoot() && target && target.contains && boardRoot().contains(target) && target.contains(card)) {
      focusedOnBoard = { task: card.getAttribute("data-task-id"), control: active.tagName.toLowerCase() };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedOnBoard || !boardRoot()) { return; }
    var card = boardRoot().querySelector('.sv-card[data-task-id="' + focusedOnBoard.task + '"]');
    var control = card && card.querySelector(focusedOnBoard.control);
    focusedOnBoard = null;
    if (control) { control.focus(); }
  });

  // A refused move (cap, stale card, wrong department) puts the columns back as the server has them (an answer
  // without board-refresh, such as a lost connection, too).
  document.addEventListener("htmx:afterRequest", function (evt) {
    var card = evt.detail.elt;
    if (card && card._move && card.classList && card.classList.contains("sv-card")) { refreshMove(card); }
  });

  // ---- every card's operator <select>: the board sends the options once, in a <template> of its head; when
  // the head comes anew (a load reached the cap or fell below it), every card's options follow it.
  function fillOperatorOptions(root) {
    var fresh = root.id === "sv-summary" || (root.querySelector && root.querySelector("#sv-summary"));
    var selects = fresh ? document.querySelectorAll("select[data-options-from]")
      : root.querySelectorAll("select[data-options-from]:not([data-filled])");
    selects.forEach(function (select) {
      var source = document.getElementById(select.getAttribute("data-options-from"));
      if (!source) { return; }
      var chosen = select.value;
      var options = source.content.cloneNode(true).querySelectorAll("option");
      if (chosen && !Array.prototype.some.call(options, function (option) { return option.value === chosen; })) { return; }
      while (select.options.length > 1) { select.remove(1); }  // keep 未分配, then the board's order
      options.forEach(function (option) { select.appendChild(option); });
      select.value = chosen;
      select.setAttribute("data-filled", "");
    });
  }
  htmx.onLoad(fillOperatorOptions);

  // ---- the select + 分配 button (no dragging needed)
  document.addEventListener("submit", function (evt) {
    var form = evt.target.closest && evt.target.closest("form.sv-assign");
    if (!form) { return; }
    evt.preventDefault();
    var card = form.closest(".sv-card");
    var wanted = form.querySelector("select[name=operator_id]").value;
    var column = document.querySelector('.sv-column[data-drop-operator="' + wanted + '"]');
    if (column) { moveCard(card, column); }
  });

  // The column under a dragged card is marked before the drop: a target, or refused (with why).
  function highlight(column, card) {
    clearTargets();
    var refused = refusal(card, column);
    column.classList.add(refused ? "drop-refused" : "drop-target");
    if (refused) { column.setAttribute("title", refused); }
  }
  function clearTargets() {
    document.querySelectorAll(".sv-column.drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
    document.querySelectorAll(".sv-column.drop-refused").forEach(function (c) {
      c.classList.remove("drop-refused");
      c.removeAttribute("title");
    });
  }

  // ---- dragging a card (mouse, touch and pen): SortableJS, one list per column, all in one group.
  // A card whose 施工单 is stopped is filtered out before a drag can start, and a column that would refuse the
  // card (the operator is at the cap) does not take it (group.put) and is marked with why while the card is over
  // it. Where the card is let go decides, through moveCard as for the select: over a column it is assigned there
  // (or refused with the reason), anywhere else nothing happens. SortableJS only shows the way; the card is put
  // back first, so a cancelled reason dialog or a refused move leaves the board as it was.
  var drag = null;  // {card, parent, next, column}: from the press on a card to its release

  function columnUnder(evt) {
    var el = evt.type === "dragover" ? evt.target : document.elementFromPoint(evt.clientX, evt.clientY);
    return el && el.closest ? el.closest(".sv-column") : null;
  }
  // Capture phase: SortableJS stops the dragover of its lists from bubbling.
  function track(evt) {
    if (!drag) { return; }
    var column = columnUnder(evt);
    if (column === drag.column) { return; }
    drag.column = column;
    if (column) { highlight(column, drag.card); } else { clearTargets(); }
  }
  document.addEventListener("dragover", track, true);   // mouse: the browser's drag and drop
  document.addEventListener("pointermove", track, true);  // touch and pen: SortableJS follows the pointer

  var CANCELLED = { dragend: true, pointercancel: true };  // let go outside the page, or Esc: no drop
  function columnOptions() {
    return {
      group: { name: "sv-board", put: function (to, from, card) { return !refusal(card, to.el); } },
      sort: false,
      draggable: ".sv-card",
      filter: "[data-blocked], select, option, button, input",
      preventOnFilter: false,  // the controls in a card still work
      fallbackTolerance: 8,    // a tap stays a tap
      ghostClass: "dragging",
      onChoose: function (evt) {
        drag = { card: evt.item, parent: evt.item.parentNode, next: evt.item.nextSibling, column: null };
      },
      onUnchoose: function (evt) {
        evt.item.setAttribute("draggable", "true");  // SortableJS unsets it; the page keeps the server's markup
        if (!Sortable.active) { drag = null; clearTargets(); }  // pressed, never dragged (onEnd does not follow)
      },
      onEnd: function (evt) {
        var done = drag;
        drag = null;
        clearTargets();
        if (!done || done.card !== evt.item) { return; }
        done.parent.insertBefore(done.card, done.next && done.next.parentNode === done.parent ? done.next : null);
        var column = done.column;
        if (!column || !document.contains(column)) { return; }
        if (evt.originalEvent && CANCELLED[evt.originalEvent.type]) {
          var refused = refusal(done.card, column);
          if (refused && window.appToast) { window.appToast(refused, "error"); }
          return;
        }
        moveCard(done.card, column);
      }
    };
  }

  // ---- 分派规则: drag rule cards to reorder; the order is posted and priorities become 100, 99, …
  function ruleOrder(list) {
    return Array.prototype.map.call(list.querySelectorAll(".rule-card"), function (card) {
      return card.getAttribute("data-rule-id");
    });
  }
  function ruleListOptions(list) {
    var orderBefore = "";
    return {
      draggable: ".rule-card",
      filter: "select, option, button, input, textarea",
      preventOnFilter: false,  // the rule's own form still works
      ghostClass: "dragging",
      onStart: function () { orderBefore = ruleOrder(list).join(","); },
      onUnchoose: function (evt) { evt.item.setAttribute("draggable", "true"); },
      onEnd: function () {
        var order = ruleOrder(list);
        if (order.join(",") === orderBefore) { return; }
        var form = document.getElementById(list.getAttribute("data-reorder-form"));
        order.forEach(function (ruleId) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "rule_id";
          input.value = ruleId;
          form.appendChild(input);
        });
        form.submit();
      }
    };
  }

  // The board re-renders itself (live push, a move): its new columns get their own SortableJS; those of the
  // replaced board are let go (not during a drag, which they still serve).
  var lists = [];
  function makeSortable(root) {
    if (!drag) {
      lists = lists.filter(function (list) {
        if (document.contains(list.el)) { return true; }
        list.destroy();
        return false;
      });
    }
    var within = function (selector) {
      var found = Array.prototype.slice.call(root.querySelectorAll(selector));
      return root.matches && root.matches(selector) ? [root].concat(found) : found;
    };
    within(".sv-column").forEach(function (column) {
      if (!Sortable.get(column)) { lists.push(Sortable.create(column, columnOptions())); }
    });
    within(".rule-list[data-reorder-form]").forEach(function (list) {
      if (!Sortable.get(list)) { lists.push(Sortable.create(list, ruleListOptions(list))); }
    });
  }
  htmx.onLoad(makeSortable);
})();
