/** How turns and interactions look on the wire. */
import type { InteractionWrite, TurnRecord } from '../storage/turn-types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toApiTurn(turn: TurnRecord) {
  return {
    id: turn.id,
    sessionId: turn.sessionId,
    seq: turn.seq,
    status: turn.status,
    content: turn.content,
    policy: turn.policy,
    idempotencyKey: turn.idempotencyKey,
    runnerId: turn.runnerId,
    attempts: turn.attempts,
    lease:
      turn.leaseEpoch !== null && turn.leaseExpiresAt !== null
        ? { epoch: turn.leaseEpoch, expiresAt: iso(turn.leaseExpiresAt)! }
        : null,
    interruptRequested: turn.interruptRequested,
    cancelRequested: turn.cancelRequested,
    error: turn.error,
    reason: turn.reason,
    createdAt: iso(turn.createdAt)!,
    startedAt: iso(turn.startedAt),
    endedAt: iso(turn.endedAt),
    updatedAt: iso(turn.updatedAt)!,
  };
}

export function toApiInteraction(interaction: InteractionWrite) {
  return {
    id: interaction.id,
    sessionId: interaction.sessionId,
    turnId: interaction.turnId,
    kind: interaction.kind,
    prompt: interaction.prompt,
    choices: interaction.choices,
    schema: interaction.schema,
    status: interaction.status,
    response: interaction.response,
    timeoutAt: iso(interaction.timeoutAt),
    requestedAt: iso(interaction.requestedAt)!,
    resolvedAt: iso(interaction.resolvedAt),
  };
}
