/** `tether search <query>`: full-text search over messages, tool names and titles. */
import { SESSION_STATUSES } from '@tether/protocol';
import type { SearchHit, SessionStatus } from '@tether/client';
import { integerFlag, parseCommand } from '../connection.js';
import { jsonLine, searchRows, type Output } from '../output.js';
import { UsageError } from '../usage.js';

export async function searchCommand(argv: string[], output: Output, bold = false): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, {
    agent: { type: 'string' },
    tool: { type: 'string' },
    status: { type: 'string' },
    tag: { type: 'string', multiple: true },
    type: { type: 'string' },
    'created-after': { type: 'string' },
    'created-before': { type: 'string' },
    limit: { type: 'string' },
  });
  const query = positionals.join(' ').trim();
  if (!query) throw new UsageError('search: missing <query>');
  const status = flags.string('status');
  if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status must be one of ${SESSION_STATUSES.join(', ')}`);
  }
  const max = integerFlag('limit', flags.string('limit'), 20);
  const filters = {
    agent: flags.string('agent'),
    tool: flags.string('tool'),
    status: status as SessionStatus | undefined,
    tag: flags.strings('tag'),
    type: flags.string('type'),
    createdAfter: flags.string('created-after'),
    createdBefore: flags.string('created-before'),
  };
  const hits: SearchHit[] = [];
  for await (const hit of client.search(query, filters, { limit: Math.min(200, max) })) {
    hits.push(hit);
    if (json) output.out(jsonLine(hit));
    if (hits.length >= max) break;
  }
  if (!json) {
    if (hits.length === 0) output.err('no matches');
    else searchRows(hits, bold).forEach((line) => output.out(line));
  }
}
