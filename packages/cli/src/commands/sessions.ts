/** `tether sessions ls|get|create|close|rm|fork`. */
import type { Session, SessionFilters, SessionStatus } from '@tether/client';
import { SESSION_STATUSES } from '@tether/protocol';
import { expectPositionals, integerFlag, parseCommand } from '../connection.js';
import { jsonLine, sessionDetails, sessionRows, type Output } from '../output.js';
import { UsageError } from '../usage.js';

const FILTERS = {
  status: { type: 'string', multiple: true },
  agent: { type: 'string' },
  type: { type: 'string' },
  tag: { type: 'string', multiple: true },
  parent: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
} as const;

function statuses(values: string[] | undefined): SessionStatus[] | undefined {
  if (!values) return undefined;
  const all = values.flatMap((value) => value.split(','));
  for (const status of all) {
    if (!(SESSION_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${SESSION_STATUSES.join(', ')}`);
  }
  return all as SessionStatus[];
}

async function list(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, FILTERS);
  expectPositionals(positionals, [], 'sessions ls');
  const filters: SessionFilters = {
    status: statuses(flags.strings('status')),
    agent: flags.string('agent'),
    type: flags.string('type'),
    tag: flags.strings('tag'),
    parentId: flags.string('parent'),
  };
  const max = flags.boolean('all') ? Infinity : integerFlag('limit', flags.string('limit'), 50);
  const found: Session[] = [];
  for await (const session of client.sessions.list(filters, { limit: Math.min(200, max) })) {
    found.push(session);
    if (json) output.out(jsonLine(session));
    if (found.length >= max) break;
  }
  if (!json) {
    if (found.length === 0) output.err('no sessions');
    else sessionRows(found).forEach((line) => output.out(line));
  }
}

function printSession(session: Session, json: boolean, output: Output): void {
  if (json) output.out(jsonLine(session));
  else sessionDetails(session).forEach((line) => output.out(line));
}

async function get(argv: string[], output: Output): Promise<void> {
  const { positionals, client, json } = parseCommand(argv, {});
  const [ref] = expectPositionals(positionals, ['ref'], 'sessions get');
  printSession(await client.sessions.get(ref!), json, output);
}

async function create(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, {
    title: { type: 'string' },
    agent: { type: 'string' },
    model: { type: 'string' },
    type: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'external-id': { type: 'string' },
    parent: { type: 'string' },
  });
  expectPositionals(positionals, [], 'sessions create');
  const result = await client.sessions.create({
    title: flags.string('title'),
    agent: flags.string('agent'),
    model: flags.string('model'),
    type: flags.string('type'),
    tags: flags.strings('tag'),
    externalId: flags.string('external-id'),
    parentId: flags.string('parent'),
  });
  if (json) output.out(jsonLine(result));
  else output.out(result.session.id);
}

async function close(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, { reason: { type: 'string' } });
  const [ref] = expectPositionals(positionals, ['ref'], 'sessions close');
  const session = await client.sessions.close(ref!, flags.string('reason'));
  if (json) output.out(jsonLine(session));
  else output.out(`${session.id} closed`);
}

async function remove(argv: string[], output: Output): Promise<void> {
  const { positionals, client, json } = parseCommand(argv, {});
  const [ref] = expectPositionals(positionals, ['ref'], 'sessions rm');
  await client.sessions.delete(ref!);
  if (json) output.out(jsonLine({ deleted: ref }));
  else output.out(`${ref} deleted`);
}

async function fork(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, { offset: { type: 'string' }, title: { type: 'string' } });
  const [ref] = expectPositionals(positionals, ['ref'], 'sessions fork');
  const session = await client.sessions.fork(ref!, { offset: flags.string('offset'), title: flags.string('title') });
  if (json) output.out(jsonLine(session));
  else output.out(session.id);
}

const SUBCOMMANDS: Record<string, (argv: string[], output: Output) => Promise<void>> = {
  ls: list,
  list,
  get,
  create,
  close,
  rm: remove,
  fork,
};

export async function sessionsCommand(argv: string[], output: Output): Promise<void> {
  const [sub, ...rest] = argv;
  const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!run) throw new UsageError(sub ? `unknown sessions command: ${sub}` : 'sessions: missing command (ls, get, create, close, rm, fork)');
  await run(rest, output);
}
