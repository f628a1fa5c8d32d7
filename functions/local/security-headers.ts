/**
 * Headers of the web console's pages: a Content-Security-Policy that allows the console's own files and, for
 * images and presigned POST uploads, the S3 endpoint that presigned URLs point to; no framing, no MIME sniffing, no
 * referrer (presigned URLs carry signatures in their query).
 */
export function consoleSecurityHeaders(s3Origin?: string): Record<string, string> {
  const s3 = s3Origin ? ` ${s3Origin}` : '';
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${s3}`,
    `connect-src 'self'${s3}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}
