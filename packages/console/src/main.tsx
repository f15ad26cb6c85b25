import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, getCredential, setCredential } from './api.js';
import { navigate, onLinkClick, usePath } from './router.js';
import { SessionsPage } from './pages/sessions.js';
import { SessionPage } from './pages/session.js';
import { InboxPage } from './pages/inbox.js';
import { SignInPage } from './pages/sign-in.js';
import './styles.css';

type AuthState = 'checking' | 'ok' | 'needed';

function App() {
  const path = usePath();
  const [auth, setAuth] = useState<AuthState>('checking');
  const [credential, setCredentialState] = useState(getCredential());

  useEffect(() => {
    const onUnauthorized = () => setAuth('needed');
    const onCredential = () => setCredentialState(getCredential());
    window.addEventListener('tether:unauthorized', onUnauthorized);
    window.addEventListener('tether:credential', onCredential);
    return () => {
      window.removeEventListener('tether:unauthorized', onUnauthorized);
      window.removeEventListener('tether:credential', onCredential);
    };
  }, []);

  useEffect(() => {
    // A server without auth answers this without a credential; one with auth needs a valid one.
    let live = true;
    setAuth('checking');
    api('GET', '/v1/sessions?limit=1').then(
      () => live && setAuth('ok'),
      (error) => live && setAuth(error instanceof ApiError && error.status === 401 ? 'needed' : 'ok'),
    );
    return () => {
      live = false;
    };
  }, [credential]);

  if (auth === 'checking') return <div class="boot">Connecting…</div>;
  if (auth === 'needed' || path === '/sign-in') {
    return <SignInPage rejected={auth === 'needed' && !!credential} onSignedIn={(session) => navigate(session ? `/sessions/${session}` : path === '/sign-in' ? '/sessions' : path, { replace: true })} />;
  }

  let page;
  let section = 'sessions';
  const sessionMatch = /^\/sessions\/([^/]+)\/?$/.exec(path);
  if (sessionMatch) page = <SessionPage key={sessionMatch[1]} id={decodeURIComponent(sessionMatch[1]!)} />;
  else if (path === '/inbox') {
    section = 'inbox';
    page = <InboxPage />;
  } else page = <SessionsPage />;

  return (
    <div class="shell" onClick={(event) => onLinkClick(event as unknown as MouseEvent)}>
      <header class="topbar">
        <a class="brand" href="/sessions">
          <span class="logo" aria-hidden="true" />
          Tether
        </a>
        <nav>
          <a href="/sessions" class={section === 'sessions' ? 'active' : ''}>
            Sessions
          </a>
          <a href="/inbox" class={section === 'inbox' ? 'active' : ''}>
            Inbox
          </a>
        </nav>
        <div class="spacer" />
        {credential ? (
          <button class="link" onClick={() => setCredential(null)} title="Forget the stored key or token">
            Sign out
          </button>
        ) : (
          <a href="/sign-in" class="muted">
            Sign in
          </a>
        )}
      </header>
      <main>{page}</main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
