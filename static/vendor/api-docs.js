// /api/docs: Swagger UI on the generated OpenAPI document. Our own file, not vendored code:
// the CSP allows no inline script. "Try it out" uses the login session, so writes send the
// CSRF token the page carries; with a token, use the Authorize button instead.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    requestInterceptor: function (request) {
      if (csrf && request.method && request.method.toUpperCase() !== "GET") {
        request.headers["X-CSRFToken"] = csrf.getAttribute("content");
      }
      return request;
    }
  });
})();
