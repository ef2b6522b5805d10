/*
 * GET /docs: the API reference. The viewer (Swagger UI) and its start-up script are Workers
 * static assets under /docs/ (public/docs/, the viewer copied from npm by `npm run assets`),
 * so the page works offline and in `wrangler dev`; the policy below lets it load nothing
 * from any other origin.
 */

export const DOCS_VIEWER_FILES = ['/docs/swagger-ui/swagger-ui.css', '/docs/swagger-ui/swagger-ui-bundle.js', '/docs/swagger-init.js'] as const;

export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function docsPage(): string {
  const [css, bundle, init] = DOCS_VIEWER_FILES;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>marginwatch API reference</title>
<link rel="stylesheet" href="${css}">
</head>
<body>
<noscript><p>This reference needs JavaScript. The OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<main id="swagger-ui"></main>
<script src="${bundle}"></script>
<script src="${init}"></script>
</body>
</html>
`;
}
