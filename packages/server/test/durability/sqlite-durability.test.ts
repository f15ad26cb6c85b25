import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashScenario } from './crash-scenario.js';

describe('durability on SQLite (fsync)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every acknowledged append across SIGKILL with 24 concurrent writers', async () => {
    const result = await runCrashScenario({ serverArgs: ['--data-dir', dataDir], writers: 24, appendForMs: 1500 });
    expect(result.stored).toBeGreaterThanOrEqual(result.acknowledged);
  }, 60_000);
});
