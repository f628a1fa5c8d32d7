/**
 * Headers of the web console's pages: a Content-Security-Policy that allows the console's own files and, for
 * images and presigned POST uploads, the S3 endpoint that presigned URLs point to; no framing, no MIME sniffing, no
 * referrer (presigned URLs carry signatures in their query).
 */
export function consoleSecurityHeaders(s3Origin?: string, issuerOrigins: string[] = []): Record<string, string> {
  const s3 = s3Origin ? [s3Origin] : [];
  return {
    // The OIDC issuer's discovery document and token endpoint (sign-in, silent renew) are fetched from the page.
    'content-security-policy': consoleContentSecurityPolicy({
      imageOrigins: s3,
      connectOrigins: [...s3, ...issuerOrigins],
    }),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}

/**
 * The console's Content-Security-Policy, locally and behind CloudFront alike: its own files only, plus the origins
 * its images (presigned S3 URLs) and requests (S3 uploads, the API when it is elsewhere) come from.
 */
export function consoleContentSecurityPolicy(o: { imageOrigins: string[]; connectOrigins: string[] }): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data: blob:", ...o.imageOrigins].join(' '),
    ["connect-src 'self'", ...o.connectOrigins].join(' '),
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
