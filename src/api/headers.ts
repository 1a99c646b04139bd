// Security headers on every answer of the HTTP server (the auth contract's dashboard
// headers): the dashboard is its own files only, no inline script or style, never in a
// frame; JSON answers carry the same policy, which costs nothing and keeps one rule.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** What every answer carries (server.ts sets them on send, errors and 404s included). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});
