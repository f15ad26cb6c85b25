/**
 * Signing in to the console: a wrong key, the admin key written on first
 * start, and a session token that lands on its own session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser-harness.js';

describe('signing in to the console in Chromium', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    harness.agent('echo', 10);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
  }, 60_000);

  it('asks for a key, refuses a wrong one, and works with the admin key', async () => {
    expect(harness.adminKey).toMatch(/^tk_/);
    const page = await harness.page({ signedIn: false });
    await page.goto('/sessions');
    const field = page.locator('input[name="credential"]');
    await field.waitFor();
    await field.fill('tk_not_a_real_key');
    await page.locator('.signin-card button[type="submit"]').click();
    await page.locator('.signin-card .error').waitFor();

    await field.fill(harness.adminKey!);
    await page.locator('.signin-card button[type="submit"]').click();
    await page.locator('[data-testid="monitor-state"][data-state="live"]').waitFor();
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'echo', title: 'Seen with a key' });
    await page.locator(`tr[data-session-id="${session.id}"]`).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await field.waitFor();
    await page.context().close();
  }, 120_000);

  it('opens the session a session token is for, and talks to the agent with it', async () => {
    const created = await harness.api('POST', '/v1/sessions', { agent: 'echo', title: 'Seen with a token' });
    expect(typeof created.token).toBe('string');
    const page = await harness.page({ signedIn: false });
    await page.goto('/');
    await page.locator('input[name="credential"]').fill(created.token);
    await page.locator('.signin-card button[type="submit"]').click();
    await page.waitForURL(`**/sessions/${created.session.id}`);
    await page.locator('[data-testid="transcript"][data-caught-up="true"]').waitFor();
    await page.locator('.composer textarea').fill('hello with a token');
    await page.locator('.composer button[type="submit"]').click();
    await page.locator('.bubble.assistant', { hasText: 'You said: hello with a token' }).waitFor();
    await page.context().close();
    expect(harness.pageErrors).toEqual([]);
  }, 120_000);
});
