/* Reorder a list by drag and drop or with ↑/↓ buttons, then save the new order.

   Markup (any list or table body; nothing here knows what the items are):
     <tbody data-sortable data-sortable-url="/save/order" data-sortable-field="id"
            data-sortable-refresh="#list">     optional: htmx re-fetches that region after saving
       <tr data-sortable-item data-id="7">
         <span data-sortable-handle>⠿</span>            optional; without it the whole item drags
         <button type="button" data-sortable-up>↑</button>
         <button type="button" data-sortable-down>↓</button>
   Mouse drags use HTML5 drag events; touch and pen use pointer events (HTML5 drag does not fire
   for touch on most tablets). After each move the ids are POSTed in their new order as repeated
   form fields with the CSRF header; if the server refuses, the old order is put back. The
   server's X-Message is shown as a toast, and "sortable:saved" is dispatched on the container.
   Handlers are delegated from the document, so lists swapped in by htmx work without set-up. */
(function () {
  "use strict";

  var ITEM = "[data-sortable-item]";
  var drag = null; // {container, item, before}

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

  function headerMessage(response) {
    var value = response.headers.get("X-Message");
    if (!value) return null;
    try { return decodeURIComponent(value); } catch (e) { return value; }
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
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
    fetch(container.dataset.sortableUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      // HX-Request: the server answers a refusal with its message in X-Message, as for htmx.
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" }
    }).then(function (response) {
      var text = headerMessage(response);
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

  // Put the dragged item before or after the item under the pointer, by which half it is in.
  function moveOver(target, clientY) {
    var over = target && target.closest(ITEM);
    if (!drag || !over || over === drag.item || over.parentElement !== drag.container) return;
    var box = over.getBoundingClientRect();
    var after = clientY > box.top + box.height / 2;
    drag.container.insertBefore(drag.item, after ? over.nextSibling : over);
  }

  function start(parts) {
    drag = { container: parts.container, item: parts.item, before: orderOf(parts.container) };
    parts.item.classList.add("is-dragging");
  }

  function finish() {
    if (!drag) return;
    var done = drag;
    drag = null;
    done.item.classList.remove("is-dragging");
    done.item.removeAttribute("draggable");
    save(done.container, done.before);
  }

  function handleAllows(parts, target) {
    var handle = parts.item.querySelector("[data-sortable-handle]");
    return !handle || handle.contains(target);
  }

  // ------------------------------------------------------------ mouse: HTML5 drag and drop
  var armed = null; // the item made draggable by a press on its handle

  document.addEventListener("mousedown", function (event) {
    var parts = sortableParts(event.target);
    if (parts && handleAllows(parts, event.target)) {
      armed = parts.item;
      armed.setAttribute("draggable", "true");
    }
  });

  document.addEventListener("mouseup", function () {
    if (armed && !drag) armed.removeAttribute("draggable");
    armed = null;
  });

  document.addEventListener("dragstart", function (event) {
    var parts = sortableParts(event.target);
    if (!parts || event.target !== parts.item) return;
    start(parts);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", parts.item.dataset.id || "");
  });

  document.addEventListener("dragover", function (event) {
    if (!drag) return;
    event.preventDefault();
    moveOver(event.target, event.clientY);
  });

  document.addEventListener("drop", function (event) {
    if (drag) event.preventDefault();
  });

  document.addEventListener("dragend", finish);

  // ------------------------------------------------------------ touch and pen: pointer events
  document.addEventListener("pointerdown", function (event) {
    if (event.pointerType === "mouse") return;
    var handle = event.target.closest("[data-sortable-handle]");
    var parts = handle && sortableParts(handle);
    if (!parts) return;
    event.preventDefault();
    try {
      handle.setPointerCapture(event.pointerId);
    } catch (e) {
      // No capture (e.g. a synthetic event): moves are still read from the document.
    }
    start(parts);
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerType === "mouse") return;
    moveOver(document.elementFromPoint(event.clientX, event.clientY), event.clientY);
  });

  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (drag && event.pointerType !== "mouse") finish();
    });
  });

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
