import { InMemoryWebStorage, type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { OidcConfig } from '../api/console-config.ts';

import { navigate } from '../router.tsx';
import { CALLBACK_PATH } from './callback-path.ts';

export { CALLBACK_PATH };

let manager: UserManager | undefined;
let current: User | null = null;

/**
 * Sign-in of people with the deployment's OpenID Connect issuer (the Cognito user pool in AWS): authorization code
 * flow with PKCE (oidc-client-ts). Tokens are kept in memory only (a reload signs in again, which the issuer's own
 * session makes a redirect without a form); they are renewed before they expire with the refresh token.
 */
export function configureOidc(config: OidcConfig, onChange: (user: User | null) => void): UserManager {
  manager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: `${location.origin}${CALLBACK_PATH}`,
    post_logout_redirect_uri: `${location.origin}/`,
    response_type: 'code',
    scope: config.scope ?? 'openid email profile',
    // Cognito's sign-out is not in its discovery document (config.signOutUrl, written by the stack).
    metadataSeed: config.signOutUrl ? { end_session_endpoint: config.signOutUrl } : undefined,
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    automaticSilentRenew: true,
    loadUserInfo: false,
  });
  const set = (user: User | null) => {
    current = user;
    onChange(user);
  };
  manager.events.addUserLoaded((user) => set(user));
  manager.events.addUserUnloaded(() => set(null));
  manager.events.addSilentRenewError(() => set(null));
  manager.events.addAccessTokenExpired(() => set(null));
  return manager;
}

/** The token the API is sent: the ID token (its `aud` is the console's client; it carries the groups). */
export const bearerToken = (): string | undefined => (current && !current.expired ? current.id_token : undefined);

/** On the callback page: exchanges the code for tokens, then takes the address back to the console's start. */
export async function completeSignIn(): Promise<void> {
  if (!manager) throw new Error('configureOidc() was not called');
  const user = await manager.signinRedirectCallback();
  current = user;
  const back = typeof user.state === 'string' && user.state.startsWith('/') ? user.state : '/';
  navigate(back, { replace: true });
}

export const signInWithIssuer = (): Promise<void> =>
  manager!.signinRedirect({ state: location.pathname === CALLBACK_PATH ? '/' : location.pathname });

export async function signOutOfIssuer(): Promise<void> {
  const m = manager!;
  const user = current;
  current = null;
  await m.removeUser();
  // Cognito's /logout takes client_id and logout_uri; a standard end_session endpoint takes the id_token_hint.
  await m.signoutRedirect({
    id_token_hint: user?.id_token,
    extraQueryParams: { client_id: m.settings.client_id, logout_uri: `${location.origin}/` },
  });
}
