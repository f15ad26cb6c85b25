/** Search in the console, through `GET /v1/search`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './browser-harness.js';

describe('console search in Chromium', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    harness.agent('echo', 10);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
  }, 60_000);

  it('finds a message by a word in it and opens its session', async () => {
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'echo', title: 'Searchable' });
    await harness.api('POST', `/v1/sessions/${session.id}/messages`, { content: 'the marmalade <b>jar</b> is empty' });
    await expect.poll(async () => (await harness.api('GET', `/v1/sessions/${session.id}`)).status, { timeout: 30_000 }).toBe('idle');

    const page = await harness.page();
    await page.goto('/sessions');
    await page.locator('input[name="q"]').fill('marmalade');
    await page.locator('input[name="q"]').press('Enter');
    const hit = page.locator('.search-results .hit', { hasText: 'Searchable' }).first();
    await hit.waitFor();
    expect(await hit.locator('mark').first().textContent()).toMatch(/marmalade/i);
    // The snippet's markup from the message is shown as text, never rendered.
    expect(await page.locator('.search-results .snippet b').count()).toBe(0);
    await harness.screenshot(page, 'search');
    await hit.click();
    await page.waitForURL(`**/sessions/${session.id}`);
    await page.context().close();
    expect(harness.pageErrors).toEqual([]);
  }, 120_000);
});
