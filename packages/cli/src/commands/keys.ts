/** `tether keys create|ls|revoke`: API keys (admin credential required). */
import type { KeyRole } from '@tether/client';
import { expectPositionals, parseCommand } from '../connection.js';
import { jsonLine, table, type Output } from '../output.js';
import { UsageError } from '../usage.js';

const ROLES: KeyRole[] = ['admin', 'runner', 'client'];

async function create(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, { name: { type: 'string' }, role: { type: 'string' } });
  expectPositionals(positionals, [], 'keys create');
  const role = flags.string('role');
  if (role !== undefined && !ROLES.includes(role as KeyRole)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const key = await client.keys.create({ name: flags.string('name'), role: role as KeyRole | undefined });
  if (json) {
    output.out(jsonLine(key));
    return;
  }
  output.out(key.key);
  output.err(`created ${key.role} key ${key.id}${key.name ? ` (${key.name})` : ''}; this is the only time it is shown`);
}

async function list(argv: string[], output: Output): Promise<void> {
  const { positionals, client, json } = parseCommand(argv, {});
  expectPositionals(positionals, [], 'keys ls');
  const keys = await client.keys.list();
  if (json) {
    keys.forEach((key) => output.out(jsonLine(key)));
    return;
  }
  table([
    ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [k.id, k.name ?? '-', k.role, k.prefix, k.createdAt, k.lastUsedAt ?? '-', k.revokedAt ?? '-']),
  ]).forEach((line) => output.out(line));
}

async function revoke(argv: string[], output: Output): Promise<void> {
  const { positionals, client, json } = parseCommand(argv, {});
  const [id] = expectPositionals(positionals, ['id'], 'keys revoke');
  await client.keys.revoke(id!);
  if (json) output.out(jsonLine({ revoked: id }));
  else output.out(`${id} revoked`);
}

const SUBCOMMANDS: Record<string, (argv: string[], output: Output) => Promise<void>> = { create, ls: list, list, revoke };

export async function keysCommand(argv: string[], output: Output): Promise<void> {
  const [sub, ...rest] = argv;
  const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!run) throw new UsageError(sub ? `unknown keys command: ${sub}` : 'keys: missing command (create, ls, revoke)');
  await run(rest, output);
}
