/* 主管看板: move a task card onto an operator's column (or back to 未分配).
 *
 * Three ways in, one path out (moveCard): HTML5 drag events (mouse), pointer events (touch and
 * pen, where HTML5 drag does not fire), and the select + 分配 button on every card. A started
 * task asks for a reason in the <dialog> first. The card moves at once; the server's answer
 * refreshes the board (board-refresh), which also puts a refused card back where it was.
 */
(function () {
  "use strict";

  var STARTED = { in_progress: true, paused: true };

  function boardRoot() { return document.getElementById("supervisor-board"); }
  function refresh() { htmx.trigger(document.body, "board-refresh"); }

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
    if (evt.detail.target === boardRoot() && card && boardRoot().contains(card)) {
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

  // A refused move (cap, stale card, wrong department) puts the board back as the server has it.
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (!evt.detail.successful && boardRoot() && boardRoot().contains(evt.detail.elt)) { refresh(); }
  });

  // ---- every card's operator <select>: the board sends the options once, in a <template>
  function fillOperatorOptions(root) {
    root.querySelectorAll("select[data-options-from]").forEach(function (select) {
      var source = document.getElementById(select.getAttribute("data-options-from"));
      if (!source) { return; }
      var chosen = select.value;
      var options = source.content.cloneNode(true).querySelectorAll("option");
      if (chosen && !Array.prototype.some.call(options, function (option) { return option.value === chosen; })) { return; }
      while (select.options.length > 1) { select.remove(1); }  // keep 未分配, then the board's order
      options.forEach(function (option) { select.appendChild(option); });
      select.value = chosen;
      select.removeAttribute("data-options-from");
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

  // ---- HTML5 drag and drop (mouse)
  var dragged = null;
  document.addEventListener("dragstart", function (evt) {
    var card = evt.target.closest && evt.target.closest(".sv-card");
    if (!card) { return; }
    if (card.hasAttribute("data-blocked")) { evt.preventDefault(); return; }
    dragged = card;
    card.classList.add("dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", card.getAttribute("data-task-id"));
  });
  // A refused column gets no drop event (dropEffect none): the card let go over it says why at dragend.
  var refusedUnder = "";
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    if (dragged && refusedUnder && window.appToast) { window.appToast(refusedUnder, "error"); }
    dragged = null;
    refusedUnder = "";
    clearTargets();
  });
  document.addEventListener("dragover", function (evt) {
    var column = dragged && evt.target.closest && evt.target.closest(".sv-column");
    if (dragged) { refusedUnder = column ? refusal(dragged, column) : ""; }
    if (!column) { return; }
    evt.preventDefault();
    evt.dataTransfer.dropEffect = refusedUnder ? "none" : "move";
    highlight(column, dragged);
  });
  document.addEventListener("drop", function (evt) {
    var column = dragged && evt.target.closest && evt.target.closest(".sv-column");
    if (!column) { return; }
    evt.preventDefault();
    var card = dragged;
    clearTargets();
    moveCard(card, column);
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

  // ---- pointer events (touch screens and pens)
  var touch = null;
  document.addEventListener("pointerdown", function (evt) {
    if (evt.pointerType === "mouse") { return; }
    var card = evt.target.closest && evt.target.closest(".sv-card");
    if (!card || card.hasAttribute("data-blocked") || evt.target.closest("select, button, a, input")) { return; }
    touch = { card: card, x: evt.clientX, y: evt.clientY, ghost: null, id: evt.pointerId };
  });
  document.addEventListener("pointermove", function (evt) {
    if (!touch || evt.pointerId !== touch.id) { return; }
    if (!touch.ghost) {
      if (Math.abs(evt.clientX - touch.x) + Math.abs(evt.clientY - touch.y) < 8) { return; }
      touch.ghost = touch.card.cloneNode(true);
      touch.ghost.classList.add("sv-card-ghost");
      document.body.appendChild(touch.ghost);
      touch.card.classList.add("dragging");
    }
    evt.preventDefault();
    touch.ghost.style.left = (evt.clientX - 20) + "px";
    touch.ghost.style.top = (evt.clientY - 20) + "px";
    var column = columnAt(evt.clientX, evt.clientY);
    if (column) { highlight(column, touch.card); } else { clearTargets(); }
  });
  function endTouch(evt, drop) {
    if (!touch || evt.pointerId !== touch.id) { return; }
    var state = touch;
    touch = null;
    clearTargets();
    if (!state.ghost) { return; }
    state.ghost.remove();
    state.card.classList.remove("dragging");
    var column = drop && columnAt(evt.clientX, evt.clientY);
    if (column) { moveCard(state.card, column); }
  }
  document.addEventListener("pointerup", function (evt) { endTouch(evt, true); });
  document.addEventListener("pointercancel", function (evt) { endTouch(evt, false); });

  function columnAt(x, y) {
    var el = document.elementFromPoint(x, y);
    return el && el.closest ? el.closest(".sv-column") : null;
  }

  // ---- 分派规则: drag rule cards to reorder; the order is posted and priorities become 100, 99, …
  var draggedRule = null;
  var orderBefore = "";
  function ruleOrder(list) {
    return Array.prototype.map.call(list.querySelectorAll(".rule-card"), function (card) {
      return card.getAttribute("data-rule-id");
    });
  }
  document.addEventListener("dragstart", function (evt) {
    var card = evt.target.closest && evt.target.closest(".rule-list[data-reorder-form] .rule-card");
    if (!card) { return; }
    draggedRule = card;
    orderBefore = ruleOrder(card.parentNode).join(",");
    card.classList.add("dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", card.getAttribute("data-rule-id"));
  });
  document.addEventListener("dragover", function (evt) {
    var over = draggedRule && evt.target.closest && evt.target.closest(".rule-card");
    if (!over || over === draggedRule || over.parentNode !== draggedRule.parentNode) { return; }
    evt.preventDefault();
    var box = over.getBoundingClientRect();
    over.parentNode.insertBefore(draggedRule, evt.clientY < box.top + box.height / 2 ? over : over.nextSibling);
  });
  document.addEventListener("drop", function (evt) {
    if (!draggedRule) { return; }
    evt.preventDefault();
  });
  document.addEventListener("dragend", function () {
    if (!draggedRule) { return; }
    var list = draggedRule.parentNode;
    draggedRule.classList.remove("dragging");
    draggedRule = null;
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
  });
})();
