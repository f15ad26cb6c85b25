/**
 * Interaction decisions (DESIGN §4), pure like `turn-rules.ts`: a question
 * appended to `out` by the running turn, an answer moving it out of
 * `pending` exactly once, and timeouts. Answers are checked against the
 * question's kind by the service before it asks for a decision; here only
 * the state machine lives.
 */
import { AppError } from '../errors.js';
import { closeInteraction, emptyPlan } from './turn-rules.js';
import type { Decision, InteractionRecord, InteractionWrite, TurnRecord, TurnSnapshot } from './turn-types.js';

export interface RequestedEvent {
  interactionId: string;
  kind: InteractionRecord['kind'];
  prompt: string;
  choices?: unknown;
  schema?: unknown;
  timeoutSeconds?: unknown;
}

/** Why an `interaction.requested` event cannot be accepted, or null. */
export function checkRequested(event: RequestedEvent): string | null {
  if (event.kind === 'choice') {
    if (!Array.isArray(event.choices) || event.choices.length === 0) return 'a `choice` interaction needs a non-empty `choices` array';
  }
  if (event.kind === 'form') {
    if (typeof event.schema !== 'object' || event.schema === null || Array.isArray(event.schema)) {
      return 'a `form` interaction needs a JSON Schema object in `schema`';
    }
  }
  if (event.timeoutSeconds !== undefined) {
    const t = event.timeoutSeconds;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) return '`timeoutSeconds` must be a positive number';
  }
  return null;
}

/** Projects questions the running turn appended to `out`: pending rows, the turn waits. */
export function decideRequested(snapshot: TurnSnapshot, events: RequestedEvent[]): Decision<InteractionWrite[]> {
  const plan = emptyPlan();
  const { now } = snapshot;
  const turn = snapshot.openTurns.find((t) => t.status === 'running' || t.status === 'waiting');
  if (!turn) throw new AppError('SESSION_NOT_RUNNING', `session ${snapshot.session.id} has no running turn to ask from`);
  const taken = new Set(snapshot.interactions.map((i) => i.id));
  const written: InteractionWrite[] = [];
  for (const event of events) {
    if (taken.has(event.interactionId)) {
      throw new AppError('INVALID_EVENT', `interaction ${event.interactionId} already exists in this session`, {
        interactionId: event.interactionId,
      });
    }
    taken.add(event.interactionId);
    const interaction: InteractionWrite = {
      projectId: snapshot.session.projectId,
      sessionId: snapshot.session.id,
      turnId: turn.id,
      id: event.interactionId,
      kind: event.kind,
      prompt: event.prompt,
      choices: Array.isArray(event.choices) ? event.choices : null,
      schema: event.kind === 'form' ? (event.schema as Record<string, unknown>) : null,
      timeoutAt: typeof event.timeoutSeconds === 'number' ? now + Math.round(event.timeoutSeconds * 1000) : null,
      status: 'pending',
      response: null,
      requestedAt: now,
      resolvedAt: null,
    };
    written.push(interaction);
    plan.interactions.push(interaction);
  }
  plan.turns.push({ ...turn, status: 'waiting', updatedAt: now });
  return { plan, result: written };
}

/** Key-order-independent JSON, so the same answer given twice compares equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A turn left with no pending question goes back to running. */
function resume(snapshot: TurnSnapshot, turnId: string, settled: Set<string>): TurnRecord | null {
  const turn = snapshot.openTurns.find((t) => t.id === turnId);
  if (!turn || turn.status !== 'waiting') return null;
  const stillPending = snapshot.pending.some((i) => i.turnId === turnId && !settled.has(i.id));
  return stillPending ? null : { ...turn, status: 'running', updatedAt: snapshot.now };
}

export interface Answer {
  interactionId: string;
  response: unknown;
  deny: boolean;
}

export function decideRespond(snapshot: TurnSnapshot, answer: Answer): Decision<{ interaction: InteractionWrite; changed: boolean }> {
  const plan = emptyPlan();
  const found = snapshot.interactions.find((i) => i.id === answer.interactionId);
  if (!found) throw new AppError('INTERACTION_NOT_FOUND', `no interaction ${answer.interactionId} in session ${snapshot.session.id}`);
  const { seq: _seq, ...interaction } = found;
  if (interaction.status !== 'pending') {
    const same =
      (answer.deny && interaction.status === 'denied') ||
      (!answer.deny && interaction.status === 'resolved' && canonicalJson(answer.response) === canonicalJson(interaction.response));
    if (same) return { plan, result: { interaction, changed: false } };
    throw new AppError('INTERACTION_NOT_PENDING', `interaction ${answer.interactionId} is ${interaction.status}`, {
      status: interaction.status,
    });
  }
  const { now } = snapshot;
  const status = answer.deny ? 'denied' : 'resolved';
  const resolved: InteractionWrite = { ...interaction, status, response: answer.deny ? null : answer.response, resolvedAt: now };
  plan.interactions.push(resolved);
  plan.appendIn.push(
    answer.deny
      ? { type: 'interaction.response', interactionId: interaction.id, deny: true }
      : { type: 'interaction.response', interactionId: interaction.id, response: answer.response },
  );
  plan.appendOut.push(
    answer.deny
      ? { type: 'interaction.resolved', interactionId: interaction.id, status }
      : { type: 'interaction.resolved', interactionId: interaction.id, status, response: answer.response },
  );
  const running = resume(snapshot, interaction.turnId, new Set([interaction.id]));
  if (running) plan.turns.push(running);
  return { plan, result: { interaction: resolved, changed: true } };
}

/** Questions past their timeout expire; the runner and the client are told. */
export function decideExpire(snapshot: TurnSnapshot): Decision<number> {
  const plan = emptyPlan();
  const due = snapshot.pending.filter((i) => i.timeoutAt !== null && i.timeoutAt <= snapshot.now);
  const settled = new Set(due.map((i) => i.id));
  for (const interaction of due) {
    plan.interactions.push(closeInteraction(interaction, 'expired', snapshot.now));
    plan.appendOut.push({ type: 'interaction.resolved', interactionId: interaction.id, status: 'expired' });
    plan.appendIn.push({ type: 'interaction.response', interactionId: interaction.id, status: 'expired' });
  }
  for (const turnId of new Set(due.map((i) => i.turnId))) {
    const running = resume(snapshot, turnId, settled);
    if (running) plan.turns.push(running);
  }
  return { plan, result: due.length };
}

