import { useState } from 'preact/hooks';
import { respond } from '../api.js';

export interface InteractionQuestion {
  sessionId: string;
  interactionId: string;
  kind: 'input' | 'choice' | 'approval' | 'form';
  prompt: string;
  choices: unknown[] | null;
  schema: Record<string, unknown> | null;
}

type Property = { type?: string; enum?: unknown[]; title?: string; description?: string };

const label = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** A form for a JSON schema's top-level properties; anything richer is answered as JSON. */
function SchemaForm(props: { schema: Record<string, unknown>; busy: boolean; onSubmit: (value: unknown) => void }) {
  const properties = (props.schema.properties ?? {}) as Record<string, Property>;
  const simple = props.schema.type === 'object' && Object.values(properties).every((p) => p.enum || ['string', 'number', 'integer', 'boolean'].includes(p.type ?? ''));
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [json, setJson] = useState('{}');
  const [error, setError] = useState<string | null>(null);

  function submit(event: Event) {
    event.preventDefault();
    if (!simple) {
      try {
        return props.onSubmit(JSON.parse(json));
      } catch {
        return setError('Not valid JSON');
      }
    }
    const answer: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(properties)) {
      const raw = values[name];
      if (property.type === 'boolean') answer[name] = raw === true;
      else if (raw === undefined || raw === '') continue;
      else if (property.type === 'number' || property.type === 'integer') answer[name] = Number(raw);
      else answer[name] = raw;
    }
    props.onSubmit(answer);
  }

  return (
    <form class="schema-form" onSubmit={submit}>
      {simple ? (
        Object.entries(properties).map(([name, property]) => (
          <label key={name} class={property.type === 'boolean' ? 'check' : ''}>
            {property.title ?? name}
            {property.enum ? (
              <select name={name} onChange={(e) => setValues({ ...values, [name]: (e.target as HTMLSelectElement).value })}>
                <option value="">—</option>
                {property.enum.map((option) => (
                  <option key={label(option)} value={String(option)}>
                    {label(option)}
                  </option>
                ))}
              </select>
            ) : property.type === 'boolean' ? (
              <input type="checkbox" name={name} onChange={(e) => setValues({ ...values, [name]: (e.target as HTMLInputElement).checked })} />
            ) : (
              <input
                name={name}
                type={property.type === 'string' ? 'text' : 'number'}
                step={property.type === 'integer' ? 1 : 'any'}
                onInput={(e) => setValues({ ...values, [name]: (e.target as HTMLInputElement).value })}
              />
            )}
            {property.description && <small class="muted">{property.description}</small>}
          </label>
        ))
      ) : (
        <textarea rows={4} class="mono" value={json} onInput={(e) => setJson((e.target as HTMLTextAreaElement).value)} />
      )}
      {error && <div class="error">{error}</div>}
      <button class="primary" type="submit" disabled={props.busy}>
        Submit
      </button>
    </form>
  );
}

/** Answers one pending question inline: text, a choice, approve/deny, or a form. */
export function InteractionForm(props: { question: InteractionQuestion; onAnswered?: () => void }) {
  const { question } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');

  async function send(answer: { response: unknown } | { deny: true }) {
    setBusy(true);
    setError(null);
    try {
      await respond(question.sessionId, question.interactionId, answer);
      props.onAnswered?.();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="answer" data-interaction-id={question.interactionId}>
      {question.kind === 'choice' && (
        <div class="choices">
          {(question.choices ?? []).map((choice) => (
            <button key={label(choice)} class="choice" disabled={busy} onClick={() => send({ response: choice })}>
              {label(choice)}
            </button>
          ))}
        </div>
      )}
      {question.kind === 'approval' && (
        <div class="choices">
          <button class="primary" disabled={busy} onClick={() => send({ response: true })}>
            Approve
          </button>
          <button class="danger" disabled={busy} onClick={() => send({ deny: true })}>
            Deny
          </button>
        </div>
      )}
      {question.kind === 'input' && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) void send({ response: text });
          }}
        >
          <input class="grow" name="answer" placeholder="Your answer" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          <button class="primary" type="submit" disabled={busy}>
            Answer
          </button>
        </form>
      )}
      {question.kind === 'form' && <SchemaForm schema={question.schema ?? {}} busy={busy} onSubmit={(value) => send({ response: value })} />}
      {question.kind !== 'approval' && (
        <button class="link decline" disabled={busy} onClick={() => send({ deny: true })}>
          Decline to answer
        </button>
      )}
      {error && <div class="error">{error}</div>}
    </div>
  );
}
