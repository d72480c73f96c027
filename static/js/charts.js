/* Charts of the statistics pages: every <canvas data-chart='{Chart.js config}'> is drawn with the
 * vendored Chart.js (static/js/vendor, served locally: offices and kiosks may be offline).
 * The numbers are in the table beside each chart as well. */
(function () {
  "use strict";

  if (!window.Chart) return;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function draw(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (Chart.getChart(canvas)) return;
      var config;
      try { config = JSON.parse(canvas.dataset.chart); } catch (e) { return; }
      config.options = config.options || {};
      config.options.plugins = Object.assign({ legend: { position: "bottom" } }, config.options.plugins);
      new Chart(canvas, config);
      canvas.dataset.rendered = "true";
    });
  }

  draw(document);
  document.addEventListener("htmx:load", function (evt) { draw(evt.detail.elt); });
})();
