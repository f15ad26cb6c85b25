/** Turn and interaction rows as SQLite stores them: JSON as text, booleans as 0/1. */
import { SQLITE_ROWS, interactionFromRow as mapInteraction, turnFromRow as mapTurn, type InteractionRow, type TurnRow } from '../row-mappers.js';
import type { BusyPolicy, InteractionRecord, InteractionWrite, TurnRecord } from '../turn-types.js';

export type { InteractionRow, TurnRow };

const text = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export function turnParams(turn: TurnRecord): Record<string, unknown> {
  return {
    ...turn,
    content: JSON.stringify(turn.content ?? null),
    error: text(turn.error),
    interruptRequested: turn.interruptRequested ? 1 : 0,
    cancelRequested: turn.cancelRequested ? 1 : 0,
  };
}

export function interactionParams(interaction: InteractionWrite): Record<string, unknown> {
  return {
    ...interaction,
    choices: text(interaction.choices),
    schema: text(interaction.schema),
    response: text(interaction.response),
  };
}

/** Maps rows with this driver's column encodings. */
export const turnFromRow = (row: TurnRow): TurnRecord => mapTurn(row, SQLITE_ROWS);
export const interactionFromRow = (row: InteractionRow): InteractionRecord => mapInteraction(row, SQLITE_ROWS);
