import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRuntimeEnv, loadLocalSettings } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { type Browser, launchChromium } from './browser.ts';

const CLIENT_ID = 'faultline-console';
/** Short-lived tokens: the console renews them (refresh token) ~10 s after sign-in (oidc-client-ts renews 60 s early). */
const TOKEN_SECONDS = 70;

/**
 * People's sign-in in Chromium: a real OpenID Connect provider (oidc-provider) on loopback stands in for the Cognito
 * user pool, with Cognito's `cognito:groups` claim and JWKS path. Authorization code flow with PKCE, the API called
 * with the ID token, administrators seeing every project, silent renew, sign-out.
 */
describe('signing in to the console with an OpenID Connect issuer', () => {
  let idp: Server;
  let issuer: string;
  let runtime: LocalRuntime;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  const refreshes: string[] = [];
  const signOuts: string[] = [];
  let someoneElses: string;

  beforeAll(async () => {
    // The provider's address must be known to the runtime, and the runtime's to the provider: listen first.
    idp = createServer();
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-oidc-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({
        ...isolatedRuntimeEnv(dataDir),
        FAULTLINE_ACCESS_LOG: 'false',
        FAULTLINE_WORKERS: '0',
        FAULTLINE_OIDC_ISSUER: issuer,
        FAULTLINE_OIDC_CLIENT_ID: CLIENT_ID,
      }),
      silentLog,
    );
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          token_endpoint_auth_method: 'none',
          application_type: 'web',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [`${runtime.url}/auth/callback`],
          post_logout_redirect_uris: [`${runtime.url}/`],
        },
      ],
      // As Cognito: the key set where Cognito has it, groups in the ID token, a refresh token with every code.
      routes: { jwks: '/.well-known/jwks.json' },
      claims: { openid: ['sub', 'cognito:groups'], email: ['email'] },
      conformIdTokenClaims: false,
      findAccount: async (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: async () => ({
          sub,
          email: `${sub}@example.com`,
          'cognito:groups': sub === 'boss' ? ['faultline-admins'] : [],
        }),
      }),
      issueRefreshToken: async () => true,
      ttl: { AccessToken: TOKEN_SECONDS, IdToken: TOKEN_SECONDS },
      pkce: { required: () => true },
    });
    provider.on('grant.success', (ctx: { oidc: { params?: Record<string, unknown> } }) => {
      if ((ctx.oidc.params?.grant_type as string) === 'refresh_token')
        refreshes.push(String(ctx.oidc.params?.grant_type));
    });
    provider.on('end_session.success', () => signOuts.push('ok'));
    idp.on('request', provider.callback());

    // A project someone else made (the local administrator key): a person sees it only as an administrator.
    const made = await fetch(`${runtime.url}/api/v1/projects`, {
      method: 'POST',
      headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'line 7' }),
    });
    expect(made.status).toBe(201);
    someoneElses = ((await made.json()) as { id: string }).id;

    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(30_000);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    await new Promise((resolve) => idp?.close(resolve));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** The provider's own pages: any login and password (its development interactions), then consent. */
  async function signInAs(login: string): Promise<{ authorization?: string }> {
    await page.goto(`${runtime.url}/`);
    await page.getByRole('button', { name: 'Sign in with your account' }).click();
    await page.waitForURL(`${issuer}/**`);
    expect(new URL(page.url()).searchParams.get('code_challenge_method') ?? 'S256').toBe('S256');
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
    const consent = page.getByRole('button', { name: 'Continue' });
    const apiCall = page.waitForRequest((r) => r.url().startsWith(`${runtime.url}/api/v1/projects`));
    if (await consent.isVisible({ timeout: 5000 }).catch(() => false)) await consent.click();
    const request = await apiCall;
    return { authorization: request.headers()['authorization'] };
  }

  it('signs a person in with the code flow and PKCE, and calls the API with the ID token: they see their own projects', async () => {
    const authorizeUrl = page.waitForRequest((r) => r.url().startsWith(`${issuer}/auth`));
    const signingIn = signInAs('alice');
    const params = new URL((await authorizeUrl).url()).searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    const { authorization } = await signingIn;
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    await page.getByRole('heading', { name: 'No projects yet' }).waitFor();
    await expect(page.getByText('alice@example.com').isVisible()).resolves.toBe(true);
    // Tokens in memory only: nothing in the tab's or the origin's storage holds them.
    const stored = await page.evaluate<string>('JSON.stringify({ ...sessionStorage, ...localStorage })');
    expect(stored).not.toContain(authorization!.slice('Bearer '.length, 40));
    // The token is the API's credential as it is the console's.
    const direct = await fetch(`${runtime.url}/api/v1/projects`, { headers: { authorization: authorization! } });
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('renews the tokens before they expire, without a page change, and keeps calling the API', async () => {
    const before = page.url();
    const deadline = Date.now() + 25_000;
    while (refreshes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(refreshes.length).toBeGreaterThan(0);
    expect(page.url()).toBe(before);
    const call = page.waitForResponse((r) => r.url().startsWith(`${runtime.url}/api/v1/projects`));
    await page.reload().catch(() => undefined);
    // A reload forgets the in-memory tokens: the person signs in again (the issuer's session skips its form).
    await page.getByRole('button', { name: 'Sign in with your account' }).click();
    const consent = page.getByRole('button', { name: 'Continue' });
    if (await consent.isVisible({ timeout: 3000 }).catch(() => false)) await consent.click();
    expect((await call).status()).toBe(200);
  });

  it('signs out at the issuer too', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${issuer}/**`);
    // oidc-provider asks to confirm the sign-out; Cognito's /logout does not.
    const yes = page.locator('button[autofocus], button[value=yes], button[type=submit]').first();
    if (await yes.isVisible({ timeout: 3000 }).catch(() => false)) await yes.click();
    await page.waitForURL(`${runtime.url}/**`);
    await page.getByRole('button', { name: 'Sign in with your account' }).waitFor();
    expect(signOuts.length).toBe(1);
  });

  it('shows an administrator (the faultline-admins group) every project', async () => {
    await signInAs('boss');
    await page.getByText('line 7').waitFor();
    await expect(page.getByText('boss@example.com').isVisible()).resolves.toBe(true);
    expect(someoneElses).toBeTruthy();
  });

  it('refuses a token from another client or a forged one', async () => {
    const bad = await fetch(`${runtime.url}/api/v1/projects`, {
      headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' },
    });
    expect(bad.status).toBe(401);
  });
});
