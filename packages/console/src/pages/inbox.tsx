import { useEffect, useRef, useState } from 'preact/hooks';
import type { Interaction, Session } from '@tether/client';
import { api, eventSourceUrl, formatTime } from '../api.js';
import { InteractionForm } from '../components/interaction-form.js';

/**
 * Pending questions across every session. The list is re-read when the
 * monitor reports a session whose pending count changed, so it stays live
 * without polling.
 */
export function InboxPage() {
  const [items, setItems] = useState<Interaction[] | null>(null);
  const [titles, setTitles] = useState<Map<string, Session>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const reload = useRef<() => void>(() => undefined);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api<{ data: Interaction[] }>('GET', '/v1/interactions?status=pending&limit=200').then(
        (page) => live && (setItems(page.data), setError(null)),
        (failure) => live && setError((failure as Error).message),
      );
    reload.current = () => {
      clearTimeout(timer);
      timer = setTimeout(load, 100);
    };
    const pendingBySession = new Map<string, number>();
    let ready = false;
    const source = new EventSource(eventSourceUrl('/v1/sessions/watch'));
    source.addEventListener('session', (event) => {
      const session = JSON.parse((event as MessageEvent).data) as Session;
      const before = pendingBySession.get(session.id);
      pendingBySession.set(session.id, session.pendingInteractions);
      setTitles((current) => (current.get(session.id)?.title === session.title && current.has(session.id) ? current : new Map(current).set(session.id, session)));
      if (ready && before !== session.pendingInteractions) reload.current();
    });
    source.addEventListener('ready', () => {
      ready = true;
      reload.current();
    });
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
      source.close();
    };
  }, []);

  return (
    <div class="page">
      <div class="page-head">
        <h1>Inbox</h1>
        {items && <span class="count">{items.length} waiting</span>}
      </div>
      {error && <p class="error">{error}</p>}
      {items?.length === 0 && <p class="empty">No questions are waiting for an answer.</p>}
      <div class="inbox">
        {items?.map((item) => {
          const session = titles.get(item.sessionId);
          return (
            <div key={item.id} class="card question pending" data-interaction-id={item.id}>
              <div class="row">
                <a class="grow title" href={`/sessions/${item.sessionId}`}>
                  {session?.title || <span class="mono">{item.sessionId}</span>}
                </a>
                {session?.agent && <span class="tag">{session.agent}</span>}
                <span class="muted">{formatTime(item.requestedAt)}</span>
              </div>
              <div class="who">Question · {item.kind}</div>
              <div class="text">{item.prompt}</div>
              <InteractionForm
                question={{ sessionId: item.sessionId, interactionId: item.id, kind: item.kind, prompt: item.prompt, choices: item.choices, schema: item.schema }}
                onAnswered={() => setItems((current) => current?.filter((other) => other.id !== item.id) ?? null)}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}
