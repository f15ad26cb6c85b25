/**
 * Runs `tether serve` as a real child process, for tests where sockets,
 * signals or crashes matter. Needs the workspace built (`npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));

export interface ServerProcess {
  url: string;
  /** The admin key the server printed on its first start on an empty store, else null. */
  adminKey: string | null;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(args: string[], timeoutMs = 20_000): Promise<ServerProcess> {
  // A process without a data directory of its own (PostgreSQL replicas) still writes its admin
  // key to one: give it a scratch one rather than the working directory's.
  const scratch = args.includes('--data-dir') ? null : mkdtempSync(join(tmpdir(), 'tether-process-'));
  const dataArgs = scratch ? ['--data-dir', scratch] : [];
  const child = spawn(process.execPath, [CLI_ENTRY, 'serve', '--port', '0', '--log-level', 'warn', ...dataArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    url,
    adminKey: /admin key \(shown once[^)]*\): (tk_\S+)/.exec(output)?.[1] ?? null,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
