import { useEffect, useRef, useState } from 'preact/hooks';
import { configureApi } from './api/client.ts';
import type { ConsoleConfig } from './api/config.ts';
import { configureLive } from './api/live-feed.ts';
import { forgetApiKey, storedApiKey } from './auth/session.ts';
import { Link, matchPath, navigate, usePath } from './router.tsx';
import { ProjectScreen } from './screens/project.tsx';
import { ProjectsScreen } from './screens/projects.tsx';
import { SignInScreen } from './screens/sign-in.tsx';

/** The console's frame: the top bar, sign-in when the API wants a key, and the screen the address names. */
export function App({ config }: { config: ConsoleConfig }) {
  const [auth, setAuth] = useState<{ signedIn: boolean; message?: string }>(() => ({
    signedIn: !config.authRequired || storedApiKey() !== undefined,
  }));
  // The sign-in screen answers its own refused key; only a session that was signed in is sent back to it.
  const signedIn = useRef(auth.signedIn);
  signedIn.current = auth.signedIn;
  useState(() =>
    configureApi({
      baseUrl: config.apiUrl,
      apiKey: storedApiKey,
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

  if (!auth.signedIn) return <SignInScreen message={auth.message} onSignedIn={() => setAuth({ signedIn: true })} />;

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
        {config.authRequired ? (
          <button
            type="button"
            class="button secondary small"
            onClick={() => {
              forgetApiKey();
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
