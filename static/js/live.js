/* Live regions (docs/LIVE.md).
 *
 * One plain WebSocket per page, to body[data-live-url]. The server sends small JSON triggers,
 * never HTML: {"type":"event","event":"task.assigned","topics":["dept:3"]}. Every element with
 * data-live="<topic> <topic> …" whose topics meet the event's gets a "live-refresh" event
 * (debounced), and re-fetches itself through its own hx-get — the normal permission-checked route.
 * While the socket is down a banner says so; after it reconnects every live region re-fetches,
 * so nothing that happened meanwhile is missed.
 *
 * An event may carry a hint that lets a region skip it: {"claimable": false} says its task neither was
 * nor is a pending task without an operator. A region marked data-live-skip="claimable" (a kiosk's 可认领
 * list: such tasks only, plus the viewer's own cap) skips it unless it reached this page on a user: topic
 * (then it is the viewer's own task, and their cap may have changed). A resync skips nothing.
 * {"claimable": "left", "task": 42} says the task's card leaves every 可认领 list (claimed, assigned,
 * cancelled) and nothing else on them changed: the first page of such a list (data-live-drop) takes it out
 * in place, the next card moving up from its hidden reserve, without a request.
 *
 * The 主管看板 is live in parts (docs/LIVE.md §6): an event on its board:<department> channel names the parts it
 * touches ({"parts": ["3:head", "3:none", "3:17"]}: the head, the 未分配 column, operator 17's column). A region
 * marked data-live-part="3:17" skips an event whose parts leave it out; the region holding them all, marked
 * data-live-parts="<every part it holds>", refreshes only when an event names a part it does not hold (a new
 * column). An event without parts (a 施工单 paused) and a resync refresh the holding region alone: one answer
 * brings every part (one request rather than one per column).
 *
 * A live re-fetch names the last event the socket carried and the last one the page's own actions
 * committed (X-Live-Seen): the server may then answer with a region it rendered for another viewer
 * after both reached it (app/shared_regions.py). A resync names none, so it is always rendered anew.
 */
(function () {
  "use strict";

  var body = document.body;
  var baseUrl = body && body.dataset.liveUrl;
  if (!baseUrl || !window.WebSocket || !window.htmx) return;

  // The events of one commit arrive within a few ms of each other: 50 ms merges them into one re-fetch.
  // Longer only delays every screen (150 ms cost 100 ms of every update and merged nothing more).
  var DEBOUNCE_MS = 50;
  var FRESH_ANSWER_MS = 1000;  // arrivedInPlace: an answer younger than this may hold the arrivals already
  var MIN_BACKOFF_MS = 1000;
  var MAX_BACKOFF_MS = 30000;
  var CLOSE_UNAUTHENTICATED = 4401;

  var socket = null;
  var subscribed = [];
  var backoff = MIN_BACKOFF_MS;
  var reconnectTimer = null;
  var missedEvents = false;
  var leaving = false;
  var banner = document.getElementById("live-banner");
  var lastHeard = null;  // the id of the last event the socket carried
  var lastOwn = null;    // the id of the last event this page's own requests committed, until the socket carries it

  function topicsOf(el) {
    return (el.getAttribute("data-live") || "").split(/[\s,]+/).filter(Boolean);
  }

  function regions() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
  }

  function pageTopics() {
    var seen = {};
    regions().forEach(function (el) {
      topicsOf(el).forEach(function (topic) { seen[topic] = true; });
    });
    return Object.keys(seen).sort();
  }

  // A change that arrives while its region is being fetched may be missing from that answer, and a
  // trigger htmx queues on the region is lost when the answer replaces it (outerHTML). So each
  // region's latest change and latest request are timed, by region id: a region that settles with
  // a change newer than its request is fetched again. (No in-flight flag: an answer swapped into a
  // replaced region fires its events where the document never hears them.)
  var changedAt = {};
  var requestedAt = {};

  function refresh(el) {
    if (el.id) changedAt[el.id] = performance.now();
    clearTimeout(el._liveTimer);
    el._liveTimer = setTimeout(function () {
      if (document.body.contains(el)) htmx.trigger(el, "live-refresh");
    }, DEBOUNCE_MS);
  }

  function isLiveRegion(el) {
    return el && el.id && el.hasAttribute && el.hasAttribute("data-live");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isLiveRegion(event.detail.elt)) requestedAt[event.detail.elt.id] = performance.now();
  });

  // A user's own action answered inside a region after the region's live re-fetch left makes that
  // re-fetch's answer older than the page: it is dropped, and the region fetched again.
  var actedAt = {};
  function isLiveRefresh(detail) {
    var config = detail.requestConfig;
    return !!(config && config.triggeringEvent && config.triggeringEvent.type === "live-refresh");
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (isLiveRefresh(event.detail) || !target || !target.closest) return;
    var region = target.closest("[data-live]");
    if (region && region.id) actedAt[region.id] = performance.now();
  });
  // A live answer does not replace what a finger (or the mouse) is pressing: swapped between the press and
  // the release, the button would be a copy by the release, and the tap would reach neither (the browser
  // clicks what the two have in common). The answer is dropped, and the region fetched again once the
  // pointer is released (a press held longer than PRESS_MS no longer holds anything back).
  var PRESS_MS = 2000;
  var pressed = null;
  var pressedAt = 0;
  var heldBack = {};
  document.addEventListener("pointerdown", function (event) {
    pressed = event.target;
    pressedAt = performance.now();
  }, true);
  function released() {
    pressed = null;
    var ids = Object.keys(heldBack);
    heldBack = {};
    ids.forEach(function (id) {
      var region = document.getElementById(id);
      if (region) refresh(region);
    });
  }
  document.addEventListener("pointerup", released, true);
  document.addEventListener("pointercancel", released, true);
  function isPressing(region) {
    return pressed !== null && performance.now() - pressedAt < PRESS_MS && region.contains(pressed);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var region = event.detail.elt;
    if (!isLiveRegion(region) || !isLiveRefresh(event.detail) || !event.detail.shouldSwap) return;
    if (isPressing(region)) {
      event.detail.shouldSwap = false;
      heldBack[region.id] = true;
    } else if ((actedAt[region.id] || 0) > (requestedAt[region.id] || 0)) {
      event.detail.shouldSwap = false;
      refresh(region);
    }
  });
  var settledAt = {};
  document.addEventListener("htmx:afterSettle", function (event) {
    var region = event.target;  // the region the answer put in place (detail.elt may be the replaced one)
    if (!isLiveRegion(region) || !document.body.contains(region)) return;
    settledAt[region.id] = performance.now();
    if ((changedAt[region.id] || 0) > (requestedAt[region.id] || 0)) refresh(region);
  });

  // A part inside the region that holds it is fetched with that region's answer.
  function heldPart(el) {
    return el.hasAttribute("data-live-part") && el.parentElement && el.parentElement.closest("[data-live-parts]");
  }

  function refreshAll() {
    lastHeard = null;  // what was missed is unknown: render anew
    regions().forEach(function (el) { if (!heldPart(el)) refresh(el); });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (!trigger || trigger.type !== "live-refresh") return;
    event.detail.headers["X-Live-Refresh"] = "1";  // not a person's activity: the kiosk's idle logout still runs
    if (lastHeard) event.detail.headers["X-Live-Seen"] = lastOwn ? lastHeard + " " + lastOwn : lastHeard;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var committed = xhr && xhr.getResponseHeader("X-Live-Event-Id");
    if (committed) lastOwn = committed;
  });
  document.addEventListener("live:committed", function (event) { lastOwn = event.detail; });  // app.js appPost

  function aboutViewer(message) {
    return message.topics.some(function (topic) { return topic.indexOf("user:") === 0; });
  }

  // A card leaving a 可认领 list (its first page: data-live-drop) is taken out in place: the first card of the
  // list's hidden reserve (the cards after the page) moves up, and the counts go down. A card the list does not
  // hold leaves it as it is when the list has no other page, and only lowers its counts when it stood after the
  // last card held (leftBeyondInPlace). Anything else is fetched, since the list would then
  // show what it does not hold (the empty state, the pager coming or going, the next card once the reserve is
  // spent, a count with a card it may not list), and so is a list whose answer is on its way (it may still hold
  // the card).
  function droppedInPlace(el, message) {
    if (message.claimable !== "left" || !el.hasAttribute("data-live-drop")) return false;
    if ((requestedAt[el.id] || 0) > (settledAt[el.id] || 0)) return false;
    var grid = el.querySelector(".card-grid");
    var counts = el.querySelectorAll("[data-live-count]");
    if (!grid || !counts.length) return false;
    var shown = grid.querySelectorAll(".task-card").length;
    var total = Number(counts[0].textContent);
    var card = el.querySelector("#task-" + Number(message.task));
    if (!card) return total === shown || leftBeyondInPlace(el, message, counts, total);
    var next = el.querySelector(".card-reserve .task-card");
    var fromPage = grid.contains(card);
    if (fromPage && total > shown && !next) return false;
    var left = total - 1;
    var shownAfter = fromPage && !next ? shown - 1 : shown;
    if (left === 0 || (total > shown) !== (left > shownAfter)) return false;
    card.remove();
    if (fromPage && next) grid.appendChild(next);
    Array.prototype.forEach.call(counts, function (count) { count.textContent = String(left); });
    return true;
  }

  // Where a card stands in a 可认领 list, from its data-order ("rank|delivery date|id"): is a after b? The list
  // is the most urgent 施工单 first, then the earliest delivery date, then the task id (cards.py _urgent_first).
  function standsAfter(a, b) {
    if (a[0] !== b[0]) return a[0] < b[0];
    if (a[1] !== b[1]) return a[1] > b[1];
    return a[2] > b[2];
  }

  function orderOf(card) {
    var parts = (card.getAttribute("data-order") || "").split("|");
    return parts.length === 3 && parts[1] ? [Number(parts[0]), parts[1], Number(parts[2])] : null;
  }

  // Tasks new to the lists of the viewer's departments (an approval: "arrived", with their 施工单's place): when
  // the list holds more cards after its page than it shows and every newcomer stands after the last card it
  // holds, its cards and pager stay as they are and only its count goes up — no request.
  function arrivedInPlace(el, message) {
    if (message.claimable !== "arrived" || !el.hasAttribute("data-live-arrive")) return false;
    if ((requestedAt[el.id] || 0) > (settledAt[el.id] || 0)) return false;
    // An answer that came in just now may have been read after the change and count the newcomers already.
    if (performance.now() - (settledAt[el.id] || -Infinity) < FRESH_ANSWER_MS) return false;
    var arrived = message.arrived || [];
    if (!arrived.length) return true;
    var counts = el.querySelectorAll("[data-live-count]");
    var held = el.querySelectorAll(".task-card");
    if (!counts.length || !held.length || !message.order) return false;
    var total = Number(counts[0].textContent);
    var last = orderOf(held[held.length - 1]);
    if (total <= held.length || !last) return false;
    var after = arrived.every(function (id) {
      return standsAfter([Number(message.order[0]), String(message.order[1]), Number(id)], last);
    });
    if (!after) return false;
    Array.prototype.forEach.call(counts, function (count) { count.textContent = String(total + arrived.length); });
    return true;
  }

  // A task that left from beyond the cards a list holds (a later page): when it stands after the last card held
  // (its 施工单's place and its id), the cards and the pager stay and only the counts go down. Not in a list
  // whose last answer came just now (it may not count the task any more).
  function leftBeyondInPlace(el, message, counts, total) {
    if (!el.hasAttribute("data-live-arrive") || !message.order) return false;
    if (performance.now() - (settledAt[el.id] || -Infinity) < FRESH_ANSWER_MS) return false;
    var held = el.querySelectorAll(".task-card");
    var last = held.length ? orderOf(held[held.length - 1]) : null;
    if (!last || total <= held.length) return false;
    var task = [Number(message.order[0]), String(message.order[1]), Number(message.task)];
    if (!standsAfter(task, last)) return false;
    Array.prototype.forEach.call(counts, function (count) { count.textContent = String(total - 1); });
    return true;
  }

  function wants(el, message) {
    var types = el.getAttribute("data-live-events");
    if (types && types.split(/[\s,]+/).indexOf(message.event) < 0) return false;
    if (!topicsOf(el).some(function (topic) { return message.topics.indexOf(topic) >= 0; })) return false;
    var parts = message.parts;
    var part = el.getAttribute("data-live-part");
    if (part && (parts ? parts.indexOf(part) < 0 : heldPart(el))) return false;
    var held = el.getAttribute("data-live-parts");
    if (held !== null && parts) {
      var holds = held.split(/\s+/);
      if (!parts.some(function (name) { return holds.indexOf(name) < 0; })) return false;
    }
    if (el.getAttribute("data-live-skip") === "claimable" && !aboutViewer(message)) {
      return message.claimable !== false && !droppedInPlace(el, message) && !arrivedInPlace(el, message);
    }
    return true;
  }

  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "hello") {
      welcomed();
    } else if (message.type === "event" && message.topics) {
      lastHeard = message.id || null;
      if (message.id === lastOwn) lastOwn = null;
      regions().forEach(function (el) { if (wants(el, message)) refresh(el); });
    } else if (message.type === "resync") {
      refreshAll();
    }
  }

  function setState(state) {
    body.dataset.liveState = state;
    if (banner) banner.hidden = state !== "down";
  }

  function socketUrl(topics) {
    // Flask builds WebSocket URLs as absolute ws:// ones: keep only the path and the query, and
    // talk to the host this page came from (the same host the Origin check expects).
    var url = new URL(baseUrl, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    url.host = window.location.host;
    if (topics.length) url.searchParams.set("topics", topics.join(" "));
    return url.toString();
  }

  function connect() {
    reconnectTimer = null;
    subscribed = pageTopics();
    var ws = new WebSocket(socketUrl(subscribed));
    socket = ws;
    ws.onmessage = onMessage;
    ws.onclose = function (event) {
      if (socket !== ws) return; // replaced on purpose (new topics)
      socket = null;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        // The session is gone (logged out elsewhere, idle logout): let the page go to the login.
        window.location.reload();
        return;
      }
      // Navigating away closes the socket too; only if the page is still here after all is it a drop.
      if (leaving) setTimeout(dropped, 3000);
      else dropped();
    };
  }

  // The server says hello once it has subscribed this socket: only from then on can no event be
  // missed, so that is when the page counts as live and catches up on what it missed while down.
  function welcomed() {
    backoff = MIN_BACKOFF_MS;
    setState("open");
    if (missedEvents) refreshAll();
    missedEvents = false;
  }

  function dropped() {
    if (socket) return;
    missedEvents = true;
    setState("down");
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    // Jitter keeps a shop full of kiosks from reconnecting in the same millisecond after a restart.
    var delay = Math.min(MAX_BACKOFF_MS, backoff * (0.8 + Math.random() * 0.4));
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    reconnectTimer = setTimeout(connect, delay);
  }

  // A swap brought regions with topics the socket does not carry yet: resubscribe quietly
  // (the new regions were just fetched, so there is nothing to refresh).
  document.addEventListener("htmx:afterSettle", function () {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    var missing = pageTopics().some(function (topic) { return subscribed.indexOf(topic) < 0; });
    if (!missing) return;
    var old = socket;
    socket = null;
    old.close(1000);
    connect();
  });

  window.addEventListener("online", function () {
    if (reconnectTimer) {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      backoff = MIN_BACKOFF_MS;
      connect();
    }
  });
  function markLeaving() {
    leaving = true;
    // A download or a cancelled navigation leaves the page in place: forget it soon.
    setTimeout(function () { leaving = false; }, 3000);
  }
  window.addEventListener("beforeunload", markLeaving);
  window.addEventListener("pagehide", markLeaving);
  window.addEventListener("pageshow", function (event) {
    // Back from the bfcache: the old socket is dead and the page may be stale.
    if (event.persisted) {
      leaving = false;
      missedEvents = true;
      if (!socket) connect();
    }
  });

  // The bell's drop-down closes when one clicks elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.bell-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  window.appLive = {
    refreshAll: refreshAll,
    state: function () { return body.dataset.liveState || "connecting"; },
  };

  setState("connecting");
  connect();
})();
