// Starts Swagger UI on this deployment's own document (served by the Worker at /openapi.json).
// validatorUrl: null keeps the viewer from sending the document to an online validator.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false,
});
