// Starts Swagger UI on /docs (web/public/api-docs/docs.html) with the API's own document.
// An external script because the app's Content-Security-Policy allows no inline script.
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  // "Try it out" sends the bearer token given under Authorize; nothing is kept.
  persistAuthorization: false,
  // Swagger UI would otherwise ask validator.swagger.io about the document.
  validatorUrl: null,
});
