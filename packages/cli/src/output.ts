/** How commands print: aligned tables and readable events for people, one JSON object per line for scripts. */
import type { ChannelEntry, Interaction, SearchHit, Session } from '@tether/client';

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Writes without a line break (streamed message text). */
  write(text: string): void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  write: (text) => process.stdout.write(text),
};

export const jsonLine = (value: unknown) => JSON.stringify(value);

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd());
}

const oneLine = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export function sessionRows(sessions: Session[]): string[] {
  return table([
    ['ID', 'STATUS', 'AGENT', 'TITLE', 'UPDATED'],
    ...sessions.map((s) => [s.id, s.status, s.agent ?? '-', oneLine(s.title ?? s.externalId ?? '-', 40), s.updatedAt]),
  ]);
}

export function sessionDetails(session: Session): string[] {
  const lines = [
    `id            ${session.id}`,
    `externalId    ${session.externalId ?? '-'}`,
    `status        ${session.status}${session.closedReason ? ` (${session.closedReason})` : ''}`,
    `title         ${session.title ?? '-'}`,
    `agent/model   ${session.agent ?? '-'} / ${session.model ?? '-'}`,
    `type          ${session.type ?? '-'}`,
    `tags          ${session.tags.join(', ') || '-'}`,
    `parent/root   ${session.parentId ?? '-'} / ${session.rootId ?? '-'}`,
    `forkedFrom    ${session.forkedFrom ? `${session.forkedFrom.sessionId} @ ${session.forkedFrom.offset}` : '-'}`,
    `turns         ${session.turnCount} (active: ${session.activeTurnId ?? 'none'})`,
    `messages      ${session.messageCount}`,
    `questions     ${session.pendingInteractions} pending`,
    `usage         ${session.usage.inputTokens} in / ${session.usage.outputTokens} out tokens, $${session.usage.costUsd.toFixed(4)}`,
    `created       ${session.createdAt}`,
    `updated       ${session.updatedAt}`,
    `channels      out ${session.channels.out.url} @ ${session.channels.out.offset}`,
    `              in  ${session.channels.in.url} @ ${session.channels.in.offset}`,
  ];
  if (Object.keys(session.metadata).length) lines.push(`metadata      ${JSON.stringify(session.metadata)}`);
  return lines;
}

export function interactionRows(items: Interaction[]): string[] {
  return table([
    ['INTERACTION', 'SESSION', 'KIND', 'STATUS', 'PROMPT'],
    ...items.map((i) => [i.id, i.sessionId, i.kind, i.status, oneLine(i.prompt) + (i.choices?.length ? ` [${i.choices.join('|')}]` : '')]),
  ]);
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** A search snippet for a terminal: `<mark>` becomes `[` `]` (or bold on a TTY), entities are decoded. */
export function plainSnippet(snippet: string, bold = false): string {
  return snippet
    .replace(/<mark>/g, bold ? '\u001b[1m' : '[')
    .replace(/<\/mark>/g, bold ? '\u001b[22m' : ']')
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}

export function searchRows(hits: SearchHit[], bold: boolean): string[] {
  return hits.flatMap((hit) => [`${hit.session.id}  ${hit.kind}  ${oneLine(hit.session.title ?? '', 50)}`, `  ${plainSnippet(hit.snippet, bold)}`]);
}

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Renders a channel for people: streamed deltas join into one line per
 * message, tool calls and questions stand out, everything else is `type json`.
 */
export class EventPrinter {
  private open = false;

  constructor(private readonly output: Output) {}

  print({ event }: ChannelEntry): void {
    const e = event as Record<string, unknown>;
    const type = String(e.type);
    if (type === 'message.delta') {
      if (!this.open) {
        this.output.write(`${String(e.role ?? 'assistant')}: `);
        this.open = true;
      }
      this.output.write(String(e.text ?? ''));
      return;
    }
    this.endLine();
    if (type === 'message.started') {
      this.output.write(`${String(e.role ?? 'assistant')}: `);
      this.open = true;
    } else if (type === 'message.completed') {
      // The deltas already printed its text.
    } else if (type === 'message' || type === 'user.message') {
      const text = typeof e.text === 'string' ? e.text : show(e.content ?? '');
      this.output.out(`${String(e.role ?? (type === 'user.message' ? 'user' : 'assistant'))}: ${text}`);
    } else if (type === 'tool.call') {
      this.output.out(`→ ${String(e.name)}(${show(e.input ?? {})})`);
    } else if (type === 'tool.result') {
      const took = typeof e.durationMs === 'number' ? ` (${e.durationMs} ms)` : '';
      this.output.out(`← ${String(e.name ?? e.toolCallId)}${e.isError ? ' failed' : ''}: ${show(e.output ?? null)}${took}`);
    } else if (type.startsWith('turn.')) {
      const why = e.reason ?? (e.error ? show(e.error) : undefined);
      this.output.out(`── ${type.slice(5)} ${String(e.turnId ?? '')}${why ? `: ${show(why)}` : ''}`);
    } else if (type === 'interaction.requested') {
      const choices = Array.isArray(e.choices) ? ` [${e.choices.join('|')}]` : '';
      this.output.out(`? ${String(e.prompt)}${choices}  (${String(e.kind)} ${String(e.interactionId)})`);
    } else if (type === 'interaction.response' || type === 'interaction.resolved') {
      this.output.out(`! ${String(e.interactionId)}: ${e.deny ? 'denied' : show(e.response ?? e.status ?? '')}`);
    } else if (type === 'usage') {
      const cost = typeof e.costUsd === 'number' ? `, $${e.costUsd}` : '';
      this.output.out(`· usage: ${show(e.inputTokens)} in / ${show(e.outputTokens)} out${cost}`);
    } else {
      const { type: _type, ...rest } = e;
      this.output.out(`${type} ${JSON.stringify(rest)}`);
    }
  }

  endLine(): void {
    if (this.open) this.output.write('\n');
    this.open = false;
  }
}
