import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Fetcher } from 'aws-jwt-verify/https';

/** An OpenID Connect issuer whose tokens the API accepts, and the app clients they must be for. */
export interface Issuer {
  issuer: string;
  /** Client ids: an ID token's `aud`, or a Cognito access token's `client_id`. */
  audience: string[];
  /** Default `ISSUER/.well-known/jwks.json` (Cognito's). */
  jwksUri?: string;
}

// The key set is fetched with Node's fetch, so that an issuer on loopback (a local OIDC provider over http) works too.
const fetcher: Fetcher = {
  async fetch(uri: string) {
    const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`fetching ${uri}: HTTP ${response.status}`);
    return response.arrayBuffer();
  },
};

/**
 * The verifier of an issuer's JWTs: signature (its key set), issuer, expiry, and the client the token was issued to.
 * ID tokens name the client in `aud`; Cognito's access tokens have no `aud` but `client_id`: either is accepted.
 */
export function issuerVerifier(o: Issuer): ReturnType<typeof JwtVerifier.create> {
  const clients = new Set(o.audience);
  return JwtVerifier.create(
    {
      issuer: o.issuer,
      audience: null,
      jwksUri: o.jwksUri ?? `${o.issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
      customJwtCheck: ({ payload }) => {
        const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
        const client = typeof payload.client_id === 'string' ? [payload.client_id] : [];
        if (![...aud, ...client].some((c) => clients.has(c)))
          throw new Error('the token was not issued to a client of this deployment');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
}
