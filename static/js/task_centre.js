/* 任务中心: select all on the page, the selected count, and the ticks kept when the list re-renders. */
(function () {
  "use strict";

  var selected = new Set();

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('#task-list input[name="task_ids"]'));
  }

  function showCount() {
    var count = boxes().filter(function (box) { return box.checked; }).length;
    document.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = count; });
  }

  document.addEventListener("change", function (evt) {
    var target = evt.target;
    if (target.matches("[data-select-all]")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], #task-list input[name='task_ids']")) {
      boxes().forEach(function (box) {
        if (box.checked) selected.add(box.value); else selected.delete(box.value);
      });
      showCount();
    }
  });

  // A live refresh or a bulk result re-renders the list: keep what is still on it ticked.
  document.addEventListener("htmx:afterSettle", function () {
    boxes().forEach(function (box) { box.checked = selected.has(box.value); });
    showCount();
  });
})();
