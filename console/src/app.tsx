import { useEffect, useRef, useState } from 'preact/hooks';
import { configureApi } from './api/client.ts';
import type { ConsoleConfig } from './api/config.ts';
import { configureLive } from './api/live-feed.ts';
import { errorMessage } from './api/errors.ts';
import {
  bearerToken,
  CALLBACK_PATH,
  completeSignIn,
  configureOidc,
  signInWithIssuer,
  signOutOfIssuer,
} from './auth/oidc.ts';
import { forgetApiKey, storedApiKey } from './auth/session.ts';
import { Link, matchPath, navigate, usePath } from './router.tsx';
import { ProjectScreen } from './screens/project.tsx';
import { ProjectsScreen } from './screens/projects.tsx';
import { SignInScreen } from './screens/sign-in.tsx';

/** The console's frame: the top bar, sign-in when the API wants a key, and the screen the address names. */
export function App({ config }: { config: ConsoleConfig }) {
  const [auth, setAuth] = useState<{ signedIn: boolean; message?: string; person?: string }>(() => ({
    signedIn: !config.authRequired || storedApiKey() !== undefined,
  }));
  // People sign in with the issuer where the deployment has one; the page the issuer sends them back to finishes it.
  const [returning, setReturning] = useState(() => !!config.oidc && location.pathname === CALLBACK_PATH);
  useState(() => {
    if (!config.oidc) return;
    configureOidc(config.oidc, (user) => {
      if (user) setAuth({ signedIn: true, person: personName(user.profile) });
      else if (signedIn.current && !storedApiKey())
        setAuth({ signedIn: false, message: 'Your session ended: please sign in again.' });
    });
    if (returning)
      completeSignIn().then(
        () => setReturning(false),
        (error: unknown) => {
          navigate('/', { replace: true });
          setReturning(false);
          setAuth({ signedIn: false, message: `Signing in did not complete: ${errorMessage(error)}` });
        },
      );
  });
  // The sign-in screen answers its own refused key; only a session that was signed in is sent back to it.
  const signedIn = useRef(auth.signedIn);
  signedIn.current = auth.signedIn;
  useState(() =>
    configureApi({
      baseUrl: config.apiUrl,
      apiKey: storedApiKey,
      bearerToken,
      onUnauthorized: (message) => {
        if (!signedIn.current) return;
        forgetApiKey();
        setAuth({ signedIn: false, message: `Please sign in again: ${message}` });
      },
    }),
  );
  useState(() => configureLive({ apiUrl: config.apiUrl, liveUrl: config.liveUrl, apiKey: storedApiKey }));
  const path = usePath();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    // After a page change, keyboard and screen-reader users start at the new content.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path]);

  if (returning)
    return (
      <main id="main" class="sign-in">
        <p role="status">Signing in…</p>
      </main>
    );
  if (!auth.signedIn)
    return (
      <SignInScreen
        message={auth.message}
        onSignedIn={() => setAuth({ signedIn: true })}
        signInWithIssuer={config.oidc ? signInWithIssuer : undefined}
      />
    );

  const project =
    matchPath('/projects/:projectId', path) ??
    matchPath('/projects/:projectId/:tab', path) ??
    matchPath('/projects/:projectId/:tab/:itemId', path);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          <svg viewBox="0 0 32 32" aria-hidden="true">
            <path
              d="M6 22 L13 12 L18 18 L26 8"
              fill="none"
              stroke="currentColor"
              stroke-width="3.5"
              stroke-linecap="round"
              stroke-linejoin="round"
            />
          </svg>
          Faultline
        </Link>
        <nav aria-label="Main">
          <Link href="/" aria-current={path === '/' ? 'page' : undefined}>
            Projects
          </Link>
          <a href="/docs">API docs</a>
        </nav>
        {auth.person ? <span class="signed-in-as">{auth.person}</span> : null}
        {config.authRequired ? (
          <button
            type="button"
            class="button secondary small"
            onClick={() => {
              forgetApiKey();
              // A person signed in with the issuer signs out there too (its session would sign them straight back in).
              if (auth.person !== undefined) {
                signedIn.current = false;
                void signOutOfIssuer();
                return;
              }
              setAuth({ signedIn: false, message: 'Signed out.' });
              navigate('/');
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {path === '/' ? (
          <ProjectsScreen />
        ) : project ? (
          <ProjectScreen projectId={project.projectId} tab={project.tab ?? 'images'} itemId={project.itemId} />
        ) : (
          <div class="page">
            <h1>Page not found</h1>
            <p>
              There is nothing at {path}. <Link href="/">Go to the projects</Link>.
            </p>
          </div>
        )}
      </main>
    </>
  );
}

/** How the top bar names a person: their e-mail, else their user name, else the subject. */
const personName = (p: { email?: string; preferred_username?: string; 'cognito:username'?: unknown; sub: string }) =>
  p.email ?? p.preferred_username ?? (typeof p['cognito:username'] === 'string' ? p['cognito:username'] : p.sub);
