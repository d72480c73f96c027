/* Reorder a list by drag and drop or with ↑/↓ buttons, then save the new order.

   Markup (any list or table body; nothing here knows what the items are):
     <tbody data-sortable data-sortable-url="/save/order" data-sortable-field="id"
            data-sortable-refresh="#list">     optional: htmx re-fetches that region after saving
       <tr data-sortable-item data-id="7">
         <span data-sortable-handle>⠿</span>            optional; without it the whole item drags
         <button type="button" data-sortable-up>↑</button>
         <button type="button" data-sortable-down>↓</button>
   Dragging (mouse, touch and pen) is SortableJS's (static/vendor, loaded before this file); the
   ↑/↓ buttons are the keyboard's way. After each move the ids are POSTed in their new order as repeated
   form fields with the CSRF header; if the server refuses, the old order is put back. The
   server's X-Message is shown as a toast, and "sortable:saved" is dispatched on the container.
   Handlers are delegated from the document, so lists swapped in by htmx work without set-up. */
(function () {
  "use strict";

  var ITEM = "[data-sortable-item]";

  function itemsOf(container) {
    return Array.prototype.filter.call(container.children, function (el) { return el.matches(ITEM); });
  }

  function orderOf(container) {
    return itemsOf(container).map(function (el) { return el.dataset.id; });
  }

  function restore(container, ids) {
    var byId = {};
    itemsOf(container).forEach(function (el) { byId[el.dataset.id] = el; });
    ids.forEach(function (id) { if (byId[id]) container.appendChild(byId[id]); });
  }

  function toast(text, kind) {
    if (window.appToast && text) window.appToast(text, kind);
  }


  // A keyboard user who pressed ↑/↓ keeps the focus on that button when the list is re-fetched.
  function focusedMover(container) {
    var button = document.activeElement;
    if (!button || !container.contains(button) || !button.matches("[data-sortable-up], [data-sortable-down]")) {
      return null;
    }
    return { id: button.closest(ITEM).dataset.id, up: button.hasAttribute("data-sortable-up") };
  }

  function refocus(focused) {
    if (!focused) return;
    var item = document.querySelector(ITEM + '[data-id="' + focused.id + '"]');
    var button = item && item.querySelector(focused.up ? "[data-sortable-up]" : "[data-sortable-down]");
    if (button) button.focus();
  }

  function save(container, before) {
    var after = orderOf(container);
    if (after.join(",") === before.join(",")) return;
    var body = new URLSearchParams();
    var field = container.dataset.sortableField || "id";
    after.forEach(function (id) { body.append(field, id); });
    container.classList.add("is-saving");
    window.appPost(container.dataset.sortableUrl, body).then(function (answer) {
      var response = answer.response, text = answer.message;
      if (response.ok) {
        toast(text, "success");
        // The page may show the stored positions: let it re-fetch the region that shows them.
        var refresh = container.dataset.sortableRefresh;
        if (refresh && window.htmx && document.querySelector(refresh)) {
          var focused = focusedMover(container);
          window.htmx.ajax("GET", window.location.href, { target: refresh, swap: "outerHTML" })
            .then(function () { refocus(focused); });
        }
      } else {
        restore(container, before);
        toast(text || document.body.dataset.msgError, "error");
      }
      container.dispatchEvent(new CustomEvent("sortable:saved", {
        bubbles: true, detail: { ok: response.ok, order: orderOf(container) }
      }));
    }).catch(function () {
      restore(container, before);
      toast(document.body.dataset.msgNetwork, "error");
    }).then(function () {
      container.classList.remove("is-saving");
    });
  }

  function sortableParts(target) {
    var item = target.closest(ITEM);
    var container = item && item.parentElement;
    if (!container || !container.matches("[data-sortable]")) return null;
    return { container: container, item: item };
  }

  // ------------------------------------------------------------ drag: SortableJS (mouse, touch and pen)
  // Each list gets its own SortableJS, also a list htmx swapped in; one whose list left the page is let go.
  var lists = [];

  function attach(root) {
    if (!window.Sortable.active) {
      lists = lists.filter(function (list) {
        if (document.contains(list.el)) return true;
        list.destroy();
        return false;
      });
    }
    var containers = Array.prototype.slice.call(root.querySelectorAll("[data-sortable]"));
    if (root.matches && root.matches("[data-sortable]")) containers.unshift(root);
    containers.forEach(function (container) {
      if (window.Sortable.get(container)) return;
      var before = null;
      lists.push(window.Sortable.create(container, {
        draggable: ITEM,
        handle: container.querySelector("[data-sortable-handle]") ? "[data-sortable-handle]" : null,
        ghostClass: "is-dragging",
        onStart: function () { before = orderOf(container); },
        onEnd: function () { save(container, before); }
      }));
    });
  }

  window.htmx.onLoad(attach);

  // ------------------------------------------------------------ keyboard: ↑ / ↓ buttons
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-sortable-up], [data-sortable-down]");
    var parts = button && sortableParts(button);
    if (!parts) return;
    var before = orderOf(parts.container);
    var siblings = itemsOf(parts.container);
    var index = siblings.indexOf(parts.item);
    if (button.hasAttribute("data-sortable-up") && index > 0) {
      parts.container.insertBefore(parts.item, siblings[index - 1]);
    } else if (button.hasAttribute("data-sortable-down") && index < siblings.length - 1) {
      parts.container.insertBefore(parts.item, siblings[index + 1].nextSibling);
    }
    button.focus();
    save(parts.container, before);
  });
})();
