import { useEffect, useMemo, useState } from 'preact/hooks';
import type { SearchHit, Session } from '@tether/client';
import { SESSION_STATUSES } from '@tether/protocol';
import { api, ApiError, eventSourceUrl, formatCost, formatTime } from '../api.js';
import { navigate } from '../router.js';
import { StatusBadge } from '../components/status-badge.js';
import { Snippet } from '../components/snippet.js';

interface Filters {
  status: string;
  agent: string;
  tag: string;
  type: string;
}

const MAX_ROWS = 200;

const EMPTY: Filters = { status: '', agent: '', tag: '', type: '' };

function filterParams(filters: Filters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value.trim()) params.set(name, value.trim());
  return params;
}

/** Whether a session still matches the filters: the monitor sends a session once more as it stops matching. */
function matches(session: Session, filters: Filters): boolean {
  const want = (value: string) => value.trim();
  if (want(filters.status) && session.status !== want(filters.status)) return false;
  if (want(filters.agent) && session.agent !== want(filters.agent)) return false;
  if (want(filters.type) && session.type !== want(filters.type)) return false;
  if (want(filters.tag) && !session.tags.includes(want(filters.tag))) return false;
  return true;
}

/** Every session matching the filters, kept live by the monitor (`/v1/sessions/watch`). */
function useWatchedSessions(filters: Filters) {
  const [sessions, setSessions] = useState<Map<string, Session>>(new Map());
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting' | 'failed' | 'forbidden'>('connecting');
  useEffect(() => {
    setSessions(new Map());
    setState('connecting');
    // EventSource resumes with Last-Event-ID by itself after a drop.
    const source = new EventSource(eventSourceUrl('/v1/sessions/watch', filterParams(filters)));
    const pending = new Map<string, Session | null>();
    let scheduled = false;
    // Batch a snapshot of many sessions into one render.
    const flush = () => {
      scheduled = false;
      setSessions((current) => {
        const next = new Map(current);
        for (const [id, session] of pending) session ? next.set(id, session) : next.delete(id);
        pending.clear();
        return next;
      });
    };
    const queue = (id: string, session: Session | null) => {
      pending.set(id, session);
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(flush);
      }
    };
    source.addEventListener('session', (event) => {
      const session = JSON.parse((event as MessageEvent).data) as Session;
      queue(session.id, matches(session, filters) ? session : null);
    });
    source.addEventListener('session.deleted', (event) => queue((JSON.parse((event as MessageEvent).data) as { id: string }).id, null));
    source.addEventListener('ready', () => setState('live'));
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return setState('reconnecting');
      setState('failed');
      // EventSource hides the status: ask once, so a refused credential leads to sign-in.
      api('GET', '/v1/sessions?limit=1').catch((error) => {
        if (error instanceof ApiError && error.status === 403) setState('forbidden');
      });
    };
    return () => source.close();
  }, [filters.status, filters.agent, filters.tag, filters.type]);
  return { sessions, state };
}

function NewSession() {
  const [open, setOpen] = useState(false);
  const [agent, setAgent] = useState('echo');
  const [title, setTitle] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = {};
      if (agent.trim()) body.agent = agent.trim();
      if (title.trim()) body.title = title.trim();
      const { session } = await api<{ session: Session }>('POST', '/v1/sessions', body);
      if (message.trim()) await api('POST', `/v1/sessions/${session.id}/messages`, { content: message.trim() });
      navigate(`/sessions/${session.id}`);
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
    }
  }

  if (!open)
    return (
      <button class="primary" onClick={() => setOpen(true)}>
        New session
      </button>
    );
  return (
    <form class="card new-session" onSubmit={create}>
      <div class="row">
        <label>
          Agent
          <input name="agent" value={agent} onInput={(e) => setAgent((e.target as HTMLInputElement).value)} placeholder="echo" />
        </label>
        <label class="grow">
          Title
          <input name="title" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} placeholder="optional" />
        </label>
      </div>
      <label>
        First message
        <textarea name="message" rows={2} value={message} onInput={(e) => setMessage((e.target as HTMLTextAreaElement).value)} placeholder="optional: starts the first turn" />
      </label>
      {error && <div class="error">{error}</div>}
      <div class="row end">
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button class="primary" type="submit" disabled={busy}>
          Create
        </button>
      </div>
    </form>
  );
}

function SearchResults(props: { query: string; filters: Filters; onClear: () => void }) {
  const [result, setResult] = useState<{ hits?: SearchHit[]; unavailable?: boolean; error?: string } | null>(null);
  useEffect(() => {
    let live = true;
    setResult(null);
    const params = filterParams(props.filters);
    params.set('q', props.query);
    api<{ data: SearchHit[] }>('GET', `/v1/search?${params}`).then(
      (page) => live && setResult({ hits: page.data }),
      (error) => live && setResult(error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND' ? { unavailable: true } : { error: error.message }),
    );
    return () => {
      live = false;
    };
  }, [props.query, props.filters.status, props.filters.agent, props.filters.tag, props.filters.type]);

  return (
    <section class="card search-results" data-testid="search-results">
      <div class="row">
        <h2 class="grow">Results for “{props.query}”</h2>
        <button class="link" onClick={props.onClear}>
          Clear search
        </button>
      </div>
      {!result && <p class="muted">Searching…</p>}
      {result?.unavailable && (
        <p class="notice" data-testid="search-unavailable">
          Search unavailable: this server does not offer <code>/v1/search</code>. The list below still filters live.
        </p>
      )}
      {result?.error && <p class="error">{result.error}</p>}
      {result?.hits?.length === 0 && <p class="muted">Nothing matched.</p>}
      {result?.hits?.map((hit, i) => (
        <a key={i} class="hit" href={`/sessions/${hit.session.id}`}>
          <span class="hit-title">{hit.session.title || hit.session.id}</span>
          <span class="tag">{hit.kind}</span>
          <Snippet html={hit.snippet} />
        </a>
      ))}
    </section>
  );
}

export function SessionsPage() {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const { sessions, state } = useWatchedSessions(filters);
  // "3 min ago" ages on screen: re-render twice a minute (nothing is fetched).
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 30_000);
    return () => clearInterval(timer);
  }, []);
  const sorted = useMemo(() => [...sessions.values()].sort((a, b) => (a.id < b.id ? 1 : -1)), [sessions]);
  // The monitor sends every matching session; the table shows the newest ones.
  const rows = sorted.slice(0, MAX_ROWS);

  const apply = (next: Filters) => {
    setDraft(next);
    setFilters(next);
  };
  const field = (name: keyof Filters, placeholder: string) => (
    <input
      name={name}
      placeholder={placeholder}
      value={draft[name]}
      onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })}
      onChange={() => setFilters(draft)}
    />
  );

  return (
    <div class="page">
      <div class="page-head">
        <h1>Sessions</h1>
        <span class={`live-dot ${state}`} title={`monitor: ${state}`} data-testid="monitor-state" data-state={state}>
          {state === 'live' ? 'live' : state}
        </span>
        <div class="spacer" />
        <NewSession />
      </div>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setSearch(query.trim());
        }}
      >
        <input class="search" name="q" type="search" placeholder="Search messages, tools and titles…" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        <select name="status" value={draft.status} onChange={(e) => apply({ ...draft, status: (e.target as HTMLSelectElement).value })}>
          <option value="">any status</option>
          {SESSION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        {field('agent', 'agent')}
        {field('tag', 'tag')}
        {field('type', 'type')}
        <button type="submit">Search</button>
      </form>
      {search && <SearchResults query={search} filters={filters} onClear={() => (setSearch(''), setQuery(''))} />}
      <table class="sessions">
        <thead>
          <tr>
            <th>Session</th>
            <th>Agent</th>
            <th>Status</th>
            <th class="num">Messages</th>
            <th class="num">Cost</th>
            <th>Last activity</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((session) => (
            <tr key={session.id} data-session-id={session.id} onClick={() => navigate(`/sessions/${session.id}`)}>
              <td>
                <a href={`/sessions/${session.id}`} class="title">
                  {session.title || <span class="mono">{session.id}</span>}
                </a>
                <div class="sub">
                  {session.lastAssistantText ? <span class="preview">{session.lastAssistantText}</span> : <span class="mono muted">{session.externalId ?? session.id}</span>}
                  {session.tags.map((tag) => (
                    <span key={tag} class="tag">
                      {tag}
                    </span>
                  ))}
                </div>
              </td>
              <td>{session.agent ?? <span class="muted">—</span>}</td>
              <td>
                <StatusBadge status={session.status} />
                {session.pendingInteractions > 0 && <span class="pending-count">{session.pendingInteractions} pending</span>}
              </td>
              <td class="num">{session.messageCount}</td>
              <td class="num">{formatCost(session.usage?.costUsd)}</td>
              <td class="muted">{formatTime(session.lastActivityAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {sorted.length > rows.length && (
        <p class="muted more">
          Showing the newest {rows.length} of {sorted.length} sessions; filters narrow the list.
        </p>
      )}
      {state === 'live' && rows.length === 0 && <p class="empty">No sessions{filterParams(filters).toString() ? ' match these filters' : ' yet'}. Create one to talk to an agent.</p>}
      {state === 'failed' && <p class="error">The monitor connection failed. Reload to try again.</p>}
      {state === 'forbidden' && <p class="notice">This key or token may not list sessions. Open a session by its link, or sign in with an API key.</p>}
    </div>
  );
}
