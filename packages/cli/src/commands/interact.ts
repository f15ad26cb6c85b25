/** `tether send`, `tether respond` and `tether inbox`: talking to a session's agent. */
import type { BusyPolicy, Interaction, InteractionAnswer, TetherClient } from '@tether/client';
import { expectPositionals, integerFlag, parseCommand } from '../connection.js';
import { interactionRows, jsonLine, type Output } from '../output.js';
import { UsageError } from '../usage.js';

const POLICIES: BusyPolicy[] = ['reject', 'enqueue', 'interrupt'];

export async function sendCommand(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, { policy: { type: 'string' }, 'idempotency-key': { type: 'string' } });
  const [ref, ...words] = positionals;
  if (!ref) throw new UsageError('send: missing <ref>');
  if (words.length === 0) throw new UsageError('send: missing <text>');
  const policy = flags.string('policy');
  if (policy !== undefined && !POLICIES.includes(policy as BusyPolicy)) throw new UsageError(`--policy must be one of ${POLICIES.join(', ')}`);
  const admitted = await client.session(ref).sendMessage(words.join(' '), {
    policy: policy as BusyPolicy | undefined,
    idempotencyKey: flags.string('idempotency-key'),
  });
  if (json) output.out(jsonLine(admitted));
  else output.out(`${admitted.turn.id} ${admitted.turn.status}`);
}

async function findInteraction(client: TetherClient, ref: string, id: string): Promise<Interaction | undefined> {
  for await (const interaction of client.session(ref).interactions.list()) if (interaction.id === id) return interaction;
  return undefined;
}

const YES = ['y', 'yes', 'true', 'approve', 'approved', 'ok'];
const NO = ['n', 'no', 'false', 'deny', 'denied'];

/** Reads an answer the way its question expects: yes/no for approvals, JSON for forms, text otherwise. */
export function answerFor(kind: Interaction['kind'] | undefined, text: string, deny: boolean): InteractionAnswer {
  if (deny) return { deny: true };
  if (kind === 'approval') {
    if (YES.includes(text.toLowerCase())) return { response: true };
    if (NO.includes(text.toLowerCase())) return { deny: true };
    throw new UsageError('an approval is answered yes or no');
  }
  if (kind === 'form') {
    try {
      return { response: JSON.parse(text) as unknown };
    } catch {
      throw new UsageError('a form is answered with a JSON object');
    }
  }
  return { response: text };
}

export async function respondCommand(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, { deny: { type: 'boolean' } });
  const deny = flags.boolean('deny');
  const [ref, interactionId, ...words] = positionals;
  if (!ref) throw new UsageError('respond: missing <ref>');
  if (!interactionId) throw new UsageError('respond: missing <interactionId>');
  if (words.length === 0 && !deny) throw new UsageError('respond: missing <answer> (or --deny)');
  const question = await findInteraction(client, ref, interactionId);
  const interaction = await client.session(ref).interactions.respond(interactionId, answerFor(question?.kind, words.join(' '), deny));
  if (json) output.out(jsonLine(interaction));
  else output.out(`${interaction.id} ${interaction.status}`);
}

export async function inboxCommand(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, { limit: { type: 'string' }, all: { type: 'boolean' } });
  expectPositionals(positionals, [], 'inbox');
  const max = flags.boolean('all') ? Infinity : integerFlag('limit', flags.string('limit'), 50);
  const found: Interaction[] = [];
  for await (const interaction of client.interactions.inbox({ limit: Math.min(200, max) })) {
    found.push(interaction);
    if (json) output.out(jsonLine(interaction));
    if (found.length >= max) break;
  }
  if (!json) {
    if (found.length === 0) output.err('no pending questions');
    else interactionRows(found).forEach((line) => output.out(line));
  }
}
