/**
 * The credential a live-feed (WebSocket) connection signs in with, locally and in AWS: the HTTP API's headers
 * (x-api-key, Authorization: Bearer), or, for browsers, which cannot set headers on a WebSocket, `?key=` or `?token=`
 * in the URL. Header names are matched in any case (API Gateway's WebSocket API passes them as sent).
 */
export function liveCredentials(
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const header = (name: string) => {
    const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
    const v = entry?.[1];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    'x-api-key': header('x-api-key') ?? (query.key || undefined),
    authorization: header('authorization') ?? (query.token ? `Bearer ${query.token}` : undefined),
  };
}
