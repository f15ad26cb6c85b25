/** `tether tail <ref>`: replays a channel, then follows it live until the session closes. */
import { expectPositionals, parseCommand } from '../connection.js';
import { EventPrinter, jsonLine, type Output } from '../output.js';
import { UsageError } from '../usage.js';

export async function tailCommand(argv: string[], output: Output, signal?: AbortSignal): Promise<void> {
  const { flags, positionals, client, json } = parseCommand(argv, {
    from: { type: 'string' },
    channel: { type: 'string' },
    'no-follow': { type: 'boolean' },
  });
  const [ref] = expectPositionals(positionals, ['ref'], 'tail');
  const channel = flags.string('channel') ?? 'out';
  if (channel !== 'out' && channel !== 'in') throw new UsageError('--channel must be out or in');
  // Resolves the ref (and fails fast with not-found) before any reading starts.
  const session = await client.sessions.get(ref!);
  const handle = client.session(session.id)[channel];
  const printer = new EventPrinter(output);
  const emit = (entry: { event: unknown; offset: string }) => {
    if (json) output.out(jsonLine({ offset: entry.offset, event: entry.event }));
    else printer.print(entry as Parameters<EventPrinter['print']>[0]);
  };
  if (!json) output.err(`${session.id} ${channel} (${session.status})`);
  if (flags.boolean('no-follow')) {
    const read = await handle.read({ from: flags.string('from') });
    read.entries.forEach(emit);
  } else {
    let warned = false;
    for await (const entry of handle.subscribe({
      from: flags.string('from'),
      signal,
      onReconnect: (error) => {
        if (error && !warned) output.err(`connection lost (${error.code}); reconnecting…`);
        warned = error !== null;
      },
    })) {
      emit(entry);
    }
  }
  printer.endLine();
}
