import { useState } from 'preact/hooks';
import { api, call } from '../api/client.ts';
import { forgetApiKey, storeApiKey } from '../auth/session.ts';
import { ErrorNotice } from '../components/status.tsx';

/**
 * The API key is the console's credential: `npm start` prints it (and a link that fills it in); in AWS, create one
 * with POST /api/v1/api-keys. It is kept for this tab only, and checked with one request before going on.
 */
export function SignInScreen({
  message,
  onSignedIn,
  signInWithIssuer,
}: {
  message?: string;
  onSignedIn: () => void;
  /** Where the deployment has an OpenID Connect issuer (Cognito in AWS): people sign in there. */
  signInWithIssuer?: () => Promise<void>;
}) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    storeApiKey(key);
    try {
      await call(api().GET('/api/v1/projects', { params: { query: { limit: 1 } } }));
      onSignedIn();
    } catch (err) {
      forgetApiKey();
      setError(err);
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <form class="card" onSubmit={submit}>
        <h1>Sign in to Faultline</h1>
        {error ? (
          <ErrorNotice error={error} title="That key was not accepted" />
        ) : message ? (
          <p class="notice" role="alert">
            {message}
          </p>
        ) : null}
        {signInWithIssuer ? (
          <>
            <button
              type="button"
              class="button"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                signInWithIssuer().catch((err: unknown) => {
                  setError(err);
                  setBusy(false);
                });
              }}
            >
              Sign in with your account
            </button>
            <p>Or, as a machine would, with an API key:</p>
          </>
        ) : null}
        <p>
          Enter an API key. Running locally, <code>npm start</code> prints one (it is also in{' '}
          <code>.faultline/api-key</code>) together with a link that signs you in.
        </p>
        <label class="field">
          <span>API key</span>
          <input
            type="password"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            autoComplete="current-password"
            required
          />
        </label>
        <button type="submit" class="button" disabled={busy || !key.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
