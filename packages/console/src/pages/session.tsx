import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ChannelEvent, Session } from '@tether/client';
import { readChannel } from '../channel.js';
import { api, ApiError, formatCost, formatTime } from '../api.js';
import { navigate } from '../router.js';
import { Transcript, type InteractionItem, type TranscriptItem } from '../transcript.js';
import { StatusBadge } from '../components/status-badge.js';
import { InteractionForm } from '../components/interaction-form.js';

const OPEN = new Set(['idle', 'queued', 'running', 'waiting']);

/** Replays both channels from the start, then follows them live, folding each event once. */
function useTranscript(sessionId: string | null, onEvents: (events: ChannelEvent[]) => void) {
  // One transcript per session id: a new id (an externalId resolved to its session) starts afresh.
  const transcript = useMemo(() => new Transcript(), [sessionId]);
  const [, setVersion] = useState(0);
  const [caughtUp, setCaughtUp] = useState({ out: false, in: false });
  const [error, setError] = useState<string | null>(null);
  const notify = useRef(onEvents);
  notify.current = onEvents;

  useEffect(() => {
    if (!sessionId) return;
    const stop = new AbortController();
    setCaughtUp({ out: false, in: false });
    const follow = async (channel: 'out' | 'in') => {
      try {
        for await (const batch of readChannel(`/v1/stream/sessions/${sessionId}/${channel}`, stop.signal)) {
          if (channel === 'out') transcript.applyOut(batch.events);
          else transcript.applyIn(batch.events);
          if (batch.upToDate) setCaughtUp((state) => (state[channel] ? state : { ...state, [channel]: true }));
          setVersion(transcript.version);
          if (batch.events.length) notify.current(batch.events);
        }
      } catch (failure) {
        if (stop.signal.aborted) return;
        const status = (failure as { status?: number }).status;
        setError(status === 404 ? 'the session no longer exists (deleted)' : (failure as Error).message);
      }
    };
    void follow('out');
    void follow('in');
    return () => stop.abort();
  }, [transcript]);
  return { transcript, caughtUp: caughtUp.out && caughtUp.in, error };
}

function pretty(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function Item(props: { item: TranscriptItem; sessionId: string; open: boolean }) {
  const { item } = props;
  switch (item.kind) {
    case 'user':
      return (
        <div class="bubble user" data-kind="user">
          <div class="who">You{item.queued && <span class="tag">queued</span>}</div>
          <div class="text">{item.text}</div>
        </div>
      );
    case 'message':
      return (
        <div class={`bubble ${item.role === 'user' ? 'user' : 'assistant'}`} data-kind="message" data-message-id={item.messageId} data-done={String(item.done)}>
          <div class="who">
            {item.role === 'assistant' ? 'Agent' : item.role}
            {item.model && <span class="muted"> · {item.model}</span>}
          </div>
          <div class="text">
            {item.text}
            {!item.done && <span class="cursor" aria-label="writing" />}
          </div>
        </div>
      );
    case 'tool':
      return (
        <details class={`tool ${item.isError ? 'failed' : ''}`} data-kind="tool">
          <summary>
            <span class="tool-icon" aria-hidden="true">⚙</span>
            <span class="mono">{item.name}</span>
            <span class="muted">{item.done ? (item.isError ? 'failed' : `done${item.durationMs !== null ? ` in ${item.durationMs} ms` : ''}`) : 'running…'}</span>
          </summary>
          <div class="tool-body">
            <div>
              <h4>Input</h4>
              <pre>{pretty(item.input)}</pre>
            </div>
            {item.done && (
              <div>
                <h4>Output</h4>
                <pre>{pretty(item.output)}</pre>
              </div>
            )}
          </div>
        </details>
      );
    case 'interaction':
      return <Question item={item} sessionId={props.sessionId} open={props.open} />;
    case 'turn':
      return (
        <div class={`turn-end ${item.event}`} data-kind="turn-end">
          turn {item.event}
          {item.detail && <span>: {item.detail}</span>}
        </div>
      );
    case 'usage':
      return (
        <div class="usage-line" data-kind="usage">
          {item.inputTokens} in · {item.outputTokens} out{item.cachedInputTokens ? ` · ${item.cachedInputTokens} cached` : ''} · {formatCost(item.costUsd)}
          {item.model && ` · ${item.model}`}
        </div>
      );
  }
}

function Question(props: { item: InteractionItem; sessionId: string; open: boolean }) {
  const { item } = props;
  const answered = item.status !== 'pending';
  return (
    <div class={`question ${answered ? 'answered' : 'pending'}`} data-kind="interaction" data-status={item.status}>
      <div class="who">Question · {item.interactionKind}</div>
      <div class="text">{item.prompt}</div>
      {answered ? (
        <div class="muted">
          {item.status}
          {item.response !== undefined && item.response !== null && `: ${typeof item.response === 'string' ? item.response : JSON.stringify(item.response)}`}
        </div>
      ) : props.open ? (
        <InteractionForm question={{ sessionId: props.sessionId, interactionId: item.interactionId, kind: item.interactionKind, prompt: item.prompt, choices: item.choices, schema: item.schema }} />
      ) : null}
    </div>
  );
}

function Composer(props: { session: Session }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const active = props.session.status !== 'idle';

  async function send(event: Event) {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      // While a turn is active the message waits its turn instead of being refused.
      await api('POST', `/v1/sessions/${props.session.id}/messages`, { content: text, policy: 'enqueue' });
      setText('');
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="composer" onSubmit={send}>
      <textarea
        name="message"
        rows={2}
        placeholder={active ? 'Message (waits for the current turn)' : 'Message the agent'}
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) send(e);
        }}
      />
      <button class="primary" type="submit" disabled={busy || !text.trim()}>
        Send
      </button>
      {error && <div class="error">{error}</div>}
    </form>
  );
}

export function SessionPage(props: { id: string }) {
  const [session, setSession] = useState<Session | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const refresh = useRef<() => void>(() => undefined);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api<{ session: Session } | Session>('GET', `/v1/sessions/${encodeURIComponent(props.id)}`).then(
        (body) => live && setSession('session' in body ? body.session : body),
        (error) => live && setLoadError(error instanceof ApiError && error.status === 404 ? 'This session does not exist (or was deleted).' : error.message),
      );
    // Status, usage and counts change with the events: re-read the session when they arrive.
    refresh.current = () => {
      clearTimeout(timer);
      timer = setTimeout(load, 150);
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [props.id]);

  // Channels are named by the session id; an externalId in the URL is resolved first.
  const id = props.id.startsWith('ses_') ? props.id : (session?.id ?? null);
  const { transcript, caughtUp, error } = useTranscript(id, () => refresh.current());

  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const element = scroller.current;
    if (element && pinned.current) element.scrollTop = element.scrollHeight;
  });

  async function act(label: string, run: () => Promise<unknown>) {
    setActionError(null);
    try {
      await run();
      refresh.current();
    } catch (failure) {
      setActionError(`${label}: ${(failure as Error).message}`);
    }
  }

  if (loadError) return <div class="page"><p class="error">{loadError}</p><a href="/sessions">Back to sessions</a></div>;
  if (!session) return <div class="page muted">Loading…</div>;
  const open = OPEN.has(session.status);
  // The session's projected usage and the sum of the usage events read so far describe the
  // same total; whichever is further along is the live one.
  const projected = session.usage ?? transcript.usage;
  const usage = {
    inputTokens: Math.max(projected.inputTokens, transcript.usage.inputTokens),
    outputTokens: Math.max(projected.outputTokens, transcript.usage.outputTokens),
    cachedInputTokens: Math.max(projected.cachedInputTokens, transcript.usage.cachedInputTokens),
    costUsd: Math.max(projected.costUsd, transcript.usage.costUsd),
  };

  return (
    <div class="page session-page">
      <div class="page-head">
        <div class="grow">
          <div class="crumbs">
            <a href="/sessions">Sessions</a> / <span class="mono">{session.id}</span>
          </div>
          <h1>{session.title || 'Untitled session'}</h1>
          <div class="meta">
            <StatusBadge status={session.status} />
            {session.agent && <span>agent <b>{session.agent}</b></span>}
            {session.forkedFrom && (
              <span>
                forked from <a href={`/sessions/${session.forkedFrom.sessionId}`} class="mono">{session.forkedFrom.sessionId}</a>
              </span>
            )}
            {session.tags.map((tag) => <span key={tag} class="tag">{tag}</span>)}
            <span class="muted">created {formatTime(session.createdAt)}</span>
          </div>
        </div>
        <div class="actions">
          {(session.status === 'running' || session.status === 'waiting') && (
            <button onClick={() => act('Interrupt', () => api('POST', `/v1/sessions/${session.id}/interrupt`))}>Interrupt</button>
          )}
          <button
            onClick={() =>
              act('Fork', async () => {
                const fork = await api<Session>('POST', `/v1/sessions/${session.id}/fork`, { title: `${session.title || 'Session'} (fork)` });
                navigate(`/sessions/${fork.id}`);
              })
            }
          >
            Fork
          </button>
          {open && <button onClick={() => act('Close', () => api('POST', `/v1/sessions/${session.id}/close`, { reason: 'closed from the console' }))}>Close</button>}
          <button
            class="danger"
            onClick={() =>
              confirm('Delete this session, its transcript, state and files?') &&
              act('Delete', async () => {
                await api('DELETE', `/v1/sessions/${session.id}`);
                navigate('/sessions');
              })
            }
          >
            Delete
          </button>
        </div>
      </div>
      <div class="usage-bar" data-testid="usage">
        <span><b>{usage.inputTokens}</b> input tokens</span>
        <span><b>{usage.outputTokens}</b> output tokens</span>
        {usage.cachedInputTokens > 0 && <span><b>{usage.cachedInputTokens}</b> cached</span>}
        <span><b>{formatCost(usage.costUsd)}</b> cost</span>
        <span><b>{session.turnCount}</b> turns</span>
      </div>
      {actionError && <p class="error">{actionError}</p>}
      {error && <p class="error">Reading the session's channels failed: {error}</p>}
      <div
        class="transcript"
        ref={scroller}
        data-testid="transcript"
        data-caught-up={String(caughtUp)}
        onScroll={(e) => {
          const element = e.currentTarget as HTMLDivElement;
          pinned.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
        }}
      >
        {transcript.items.map((item) => <Item key={item.key} item={item} sessionId={session.id} open={open} />)}
        {caughtUp && transcript.items.length === 0 && <p class="empty">Nothing here yet. Send a message to start a turn.</p>}
      </div>
      {open ? <Composer session={session} /> : <p class="closed-note">This session is {session.status}{session.closedReason ? ` (${session.closedReason})` : ''}; fork it to continue.</p>}
    </div>
  );
}
