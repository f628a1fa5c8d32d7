// No DOM here: the CDK app (lib/web-console.ts) writes this shape into /config.json.
/** What the deployment tells the console: where the API is ('' = this origin) and whether it asks for a key. */
export interface ConsoleConfig {
  apiUrl: string;
  authRequired: boolean;
  /** Where the live feed (WebSocket) is when not at /ws on the API's origin, e.g. an API Gateway WebSocket API. */
  liveUrl?: string;
  /** People sign in with this OpenID Connect issuer (the Cognito user pool in AWS); API keys work beside it. */
  oidc?: OidcConfig;
}

export interface OidcConfig {
  authority: string;
  clientId: string;
  scope?: string;
  /** Where sign-out goes when the issuer's discovery document names none (Cognito's /logout). */
  signOutUrl?: string;
}
