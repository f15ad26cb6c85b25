import { useState } from 'preact/hooks';
import { api, ApiError, getCredential, setCredential, tokenSession } from '../api.js';

export function SignInPage(props: { rejected: boolean; onSignedIn: (sessionId: string | null) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(props.rejected ? 'The stored key or token was refused. Sign in again.' : null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const credential = value.trim();
    if (!credential) return setError('Paste an API key (tk_…) or a session token.');
    setBusy(true);
    setError(null);
    const previous = getCredential();
    localStorage.setItem('tether.credential', credential);
    const session = tokenSession(credential);
    try {
      // A session token may read only its own session; an API key may list.
      await api('GET', session ? `/v1/sessions/${session}` : '/v1/sessions?limit=1');
      setCredential(credential);
      props.onSignedIn(session);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 403) {
        // Valid, but not allowed to list sessions: keep it for what it may do.
        setCredential(credential);
        props.onSignedIn(session);
        return;
      }
      if (previous) localStorage.setItem('tether.credential', previous);
      else localStorage.removeItem('tether.credential');
      setError(failure instanceof ApiError && failure.status === 401 ? 'That key or token was not accepted.' : String((failure as Error).message));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="signin">
      <form class="card signin-card" onSubmit={submit}>
        <div class="brand big">
          <span class="logo" aria-hidden="true" />
          Tether
        </div>
        <p class="muted">Sign in with an API key or a session token. It is kept in this browser only.</p>
        <label>
          Key or token
          <input
            name="credential"
            type="password"
            autoComplete="off"
            placeholder="tk_…"
            value={value}
            onInput={(event) => setValue((event.target as HTMLInputElement).value)}
            autoFocus
          />
        </label>
        {error && <div class="error">{error}</div>}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="hint">
          The server prints its admin key on first start and keeps it in <code>&lt;data-dir&gt;/admin-key</code>.
        </p>
      </form>
    </div>
  );
}
