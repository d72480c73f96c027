/* 排产 page (templates/planning/): drag a task block within its lane or onto another workstation's
   lane (SortableJS), or use the ↑/↓ and 移到… forms (htmx). A move is POSTed to the region's
   data-move-url; the answer is the region again (swapped in); a refusal (机台 X 不能做工序 Y…) puts
   the block back and shows the server's reason as a toast. The region is live (docs/LIVE.md): it
   re-fetches itself on planning.updated, but not while a block is being dragged. */
(function () {
  "use strict";

  var dragging = false;
  var missed = false; // a live refresh was held back during a drag
  var focusKey = null;

  function region() { return document.getElementById("planning-region"); }

  function toast(text, kind) { if (window.appToast && text) window.appToast(text, kind); }

  function putBack(evt) {
    var item = evt.item;
    item.remove();
    var siblings = Array.prototype.filter.call(evt.from.children, function (el) { return el !== item; });
    evt.from.insertBefore(item, siblings[evt.oldIndex] || null);
  }

  function refresh() {
    var current = region();
    if (current && window.htmx) window.htmx.trigger(current, "live-refresh");
  }

  function moved(evt) {
    dragging = false;
    var current = region();
    if (!current || (evt.from === evt.to && evt.oldIndex === evt.newIndex)) {
      if (missed) { missed = false; refresh(); }
      return;
    }
    var body = new URLSearchParams();
    body.append("task_id", evt.item.dataset.taskId);
    body.append("workstation_id", evt.to.dataset.workstationId);
    body.append("position", String(evt.newIndex));
    body.append("view", current.dataset.view || "lanes");
    current.classList.add("is-saving");
    window.appPost(current.dataset.moveUrl, body).then(function (answer) {
      var response = answer.response, text = answer.message;
      return response.text().then(function (html) {
        missed = false;
        if (response.ok) {
          window.htmx.swap(current, html, { swapStyle: "outerHTML" });
          toast(text, "success");
        } else {
          current.classList.remove("is-saving");
          putBack(evt);
          toast(text || document.body.dataset.msgError, "error");
          refresh();
        }
      });
    }).catch(function () {
      current.classList.remove("is-saving");
      putBack(evt);
      toast(document.body.dataset.msgNetwork, "error");
    });
  }

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var lanes = scope.querySelectorAll(".planning-region[data-editable] .plan-lane");
    if (root && root.matches && root.matches(".plan-lane")) lanes = [root];
    Array.prototype.forEach.call(lanes, function (lane) {
      if (lane.sortable || !window.Sortable) return;
      lane.sortable = window.Sortable.create(lane, {
        group: "plan-" + (lane.closest(".planning-region").dataset.department || ""),
        draggable: ".plan-block",
        filter: ".plan-actions, .plan-keys, a",
        preventOnFilter: false,
        forceFallback: true,
        fallbackTolerance: 4,
        animation: 120,
        onStart: function () { dragging = true; },
        onEnd: moved
      });
    });
  }

  // Keyboard moves: the focus comes back to the same control of the same task after the swap. The
  // control is read when a request leaves and again just before each swap of the region (a live
  // refresh answered after the move's own response would otherwise take the focus away again);
  // on the body, the control went with a swap or was disabled while its request runs: its key stays.
  function rememberFocus() {
    var active = document.activeElement;
    if (!active || active === document.body) return;
    focusKey = active.dataset && active.closest("#planning-region") ? active.dataset.planKey || null : null;
  }

  // A live refresh that arrives mid-drag would throw the dragged block away: hold it until the drop.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (elt && elt.id === "planning-region" && dragging) {
      missed = true;
      evt.preventDefault();
      return;
    }
    rememberFocus();
  });

  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "planning-region") rememberFocus();
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    // The swapped-out region is detached: look in the one now in the page.
    var target = region();
    if (!focusKey || !target || !evt.detail.target || evt.detail.target.id !== "planning-region") return;
    var again = target.querySelector('[data-plan-key="' + focusKey + '"]');
    var task = focusKey.split("-").pop();
    if (!again) again = target.querySelector('[data-task-id="' + task + '"] [data-plan-key], [data-task-id="' + task + '"]');
    if (again) {
      var menu = again.closest("details");
      if (menu) menu.open = true;
      if (!again.hasAttribute("tabindex") && again.matches("li, tr")) again.setAttribute("tabindex", "-1");
      again.focus();
    }
    focusKey = null;
  });

  if (window.htmx) window.htmx.onLoad(setUp);
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
})();
