/**
 * How every client command finds its server and credential: `--url` /
 * `TETHER_URL`, and `--api-key` / `TETHER_API_KEY`, else the admin key the
 * server keeps in its data directory, so `tether` works locally with no setup.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createClient, type TetherClient } from '@tether/client';
import { UsageError } from './usage.js';

export const DEFAULT_URL = 'http://127.0.0.1:4437';
export const DEFAULT_DATA_DIR = './.tether';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every client command takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export interface Connection {
  url: string;
  apiKey?: string;
  /** Where the key came from, for error messages. */
  keySource: 'flag' | 'env' | 'data-dir' | 'none';
}

export function resolveConnection(values: { url?: string; 'api-key'?: string; 'data-dir'?: string }, env: NodeJS.ProcessEnv): Connection {
  const url = values.url ?? env.TETHER_URL ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
  if (values['api-key']) return { url, apiKey: values['api-key'], keySource: 'flag' };
  if (env.TETHER_API_KEY) return { url, apiKey: env.TETHER_API_KEY, keySource: 'env' };
  const file = join(values['data-dir'] ?? DEFAULT_DATA_DIR, 'admin-key');
  try {
    const key = readFileSync(file, 'utf8').trim();
    if (key) return { url, apiKey: key, keySource: 'data-dir' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { url, keySource: 'none' };
}

type Value = string | boolean | (string | boolean)[] | undefined;

/** A command's parsed flags, read through typed accessors. */
export class Flags {
  constructor(private readonly values: Record<string, Value>) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  strings(name: string): string[] | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    return (Array.isArray(value) ? value : [value]).map(String);
  }

  boolean(name: string): boolean {
    return this.values[name] === true;
  }
}

export interface Parsed {
  flags: Flags;
  positionals: string[];
  client: TetherClient;
  json: boolean;
}

/** Parses a command's flags (plus the connection flags) and builds its client. */
export function parseCommand(argv: string[], options: Options, env: NodeJS.ProcessEnv = process.env): Parsed {
  const { values, positionals } = parseArgs({ args: argv, options: { ...options, ...CONNECTION_OPTIONS }, allowPositionals: true, strict: true });
  const flags = new Flags(values as Record<string, Value>);
  const connection = resolveConnection({ url: flags.string('url'), 'api-key': flags.string('api-key'), 'data-dir': flags.string('data-dir') }, env);
  const client = createClient({ url: connection.url, apiKey: connection.apiKey, sendAttempts: 3 });
  return { flags, positionals, client, json: flags.boolean('json') };
}

/** The positionals a command needs, by name; too few or too many is a usage error. */
export function expectPositionals(positionals: string[], names: string[], command: string, optional = 0): string[] {
  const min = names.length - optional;
  if (positionals.length < min) throw new UsageError(`${command}: missing <${names[positionals.length]}>`);
  if (positionals.length > names.length) throw new UsageError(`${command}: unexpected argument ${positionals[names.length]}`);
  return positionals;
}

export function integerFlag(name: string, value: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}
