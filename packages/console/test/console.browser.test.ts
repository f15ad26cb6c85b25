import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, writtenMessages, type Harness } from './browser-harness.js';

/**
 * The console in real Chromium against a real server and the real echo agent.
 * Every wait is for a condition on the page, never a fixed pause.
 */
describe('the web console in Chromium', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
    harness.agent('echo', 40);
    // Slow enough that a reload lands in the middle of a reply on any machine.
    harness.agent('slow-echo', 200);
    // Asks each other kind of question in turn, then says what it was told.
    harness.runner('asker', async (ctx) => {
      const name = await ctx.waitForInput('Your name?');
      const approval = await ctx.approve('Deploy to production?').then(
        () => 'approved',
        () => 'denied',
      );
      const form = await ctx.ask({
        kind: 'form',
        prompt: 'Ticket details',
        schema: {
          type: 'object',
          properties: { priority: { type: 'string', enum: ['low', 'high'] }, count: { type: 'integer' }, urgent: { type: 'boolean' } },
          required: ['priority'],
        },
      });
      await ctx.streamMessage([`name=${name} approval=${approval} form=${JSON.stringify(form)}`]);
    });
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
  }, 60_000);

  async function openSessions(): Promise<Page> {
    const page = await harness.page();
    await page.goto('/sessions');
    await page.locator('[data-testid="monitor-state"][data-state="live"]').waitFor();
    return page;
  }

  const statusOf = (page: Page, id: string) => page.locator(`tr[data-session-id="${id}"] .badge`);

  it('shows status changes live, without a reload', async () => {
    const page = await openSessions();
    await page.evaluate(() => ((window as unknown as { stayed: string }).stayed = 'same document'));
    // No runner serves this agent, so the session stays queued until it is closed.
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'nobody-serves-this', title: 'Live status' });
    await expect.poll(() => statusOf(page, session.id).textContent(), { timeout: 30_000 }).toBe('idle');

    await harness.api('POST', `/v1/sessions/${session.id}/messages`, { content: 'hello' });
    await expect.poll(() => statusOf(page, session.id).textContent(), { timeout: 30_000 }).toBe('queued');

    await harness.api('POST', `/v1/sessions/${session.id}/close`, { reason: 'done' });
    await expect.poll(() => statusOf(page, session.id).textContent(), { timeout: 30_000 }).toBe('closed');

    await harness.api('DELETE', `/v1/sessions/${session.id}`);
    await expect.poll(() => page.locator(`tr[data-session-id="${session.id}"]`).count(), { timeout: 30_000 }).toBe(0);

    expect(await page.evaluate(() => (window as unknown as { stayed?: string }).stayed)).toBe('same document');
    await page.context().close();
  }, 120_000);

  it('filters by status, and a session leaves the filtered list live when its status changes', async () => {
    const page = await openSessions();
    await page.locator('select[name="status"]').selectOption('queued');
    await page.locator('[data-testid="monitor-state"][data-state="live"]').waitFor();
    const { session: waiting } = await harness.api('POST', '/v1/sessions', { agent: 'nobody-serves-this', title: 'Filtered in' });
    const { session: idle } = await harness.api('POST', '/v1/sessions', { agent: 'nobody-serves-this', title: 'Filtered out' });
    await harness.api('POST', `/v1/sessions/${waiting.id}/messages`, { content: 'wait here' });
    const row = page.locator(`tr[data-session-id="${waiting.id}"]`);
    await row.waitFor();
    expect(await page.locator(`tr[data-session-id="${idle.id}"]`).count()).toBe(0);
    await harness.api('POST', `/v1/sessions/${waiting.id}/close`, {});
    await row.waitFor({ state: 'detached' });
    await page.context().close();
  }, 120_000);

  it('answers the echo agent’s choice with a click, and the reply continues', async () => {
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'echo', title: 'Pick a colour', tags: ['demo'] });
    const page = await harness.page();
    await page.goto(`/sessions/${session.id}`);
    await page.locator('[data-testid="transcript"][data-caught-up="true"]').waitFor();

    await page.locator('.composer textarea').fill('please choose a colour for the logo');
    await page.locator('.composer button[type="submit"]').click();

    const green = page.locator('.question.pending button.choice', { hasText: 'green' });
    await green.waitFor();
    await expect.poll(() => page.locator('.bubble.assistant').first().textContent(), { timeout: 30_000 }).toContain('You said: please choose a colour for the logo');
    // The tool call is there and expands to its input and output.
    await page.locator('details.tool summary').first().click();
    await expect.poll(() => page.locator('details.tool pre').last().textContent(), { timeout: 30_000 }).toContain('"words": 7');
    await harness.screenshot(page, 'session-question');

    const inbox = await harness.page();
    await inbox.goto('/inbox');
    await inbox.locator('.inbox .question button.choice', { hasText: 'green' }).waitFor();
    await harness.screenshot(inbox, 'inbox');
    await inbox.context().close();

    await green.click();
    await page.locator('.bubble.assistant', { hasText: 'You picked green. Good choice.' }).waitFor();
    await page.locator('.turn-end.completed').waitFor();
    await expect.poll(() => page.locator('.question').getAttribute('data-status'), { timeout: 30_000 }).toBe('resolved');
    // Usage recorded by the agent reaches the usage bar.
    await expect.poll(() => page.locator('[data-testid="usage"]').textContent(), { timeout: 30_000 }).toMatch(/[1-9]\d* output tokens/);
    expect(await page.locator('.question.pending').count()).toBe(0);
    // The session's own status follows the turn on this page too.
    await expect.poll(() => page.locator('.meta .badge').textContent(), { timeout: 30_000 }).toBe('idle');
    await harness.screenshot(page, 'session');
    await page.context().close();
  }, 120_000);

  it('answers text, approval and form questions, in the session and from the inbox', async () => {
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'asker', title: 'Questions of every kind' });
    await harness.api('POST', `/v1/sessions/${session.id}/messages`, { content: 'start' });
    const page = await harness.page();
    await page.goto(`/sessions/${session.id}`);

    const input = page.locator('.question.pending input[name="answer"]');
    await input.waitFor();
    await input.fill('Ada');
    await page.locator('.question.pending button[type="submit"]').click();

    // The approval is denied from the inbox; the session page sees it settle.
    const inbox = await harness.page();
    await inbox.goto('/inbox');
    const card = inbox.locator('.inbox .question', { hasText: 'Deploy to production?' });
    await card.locator('button', { hasText: 'Deny' }).click();
    await card.waitFor({ state: 'detached' });
    await inbox.context().close();
    await page.locator('.question[data-status="denied"]', { hasText: 'Deploy to production?' }).waitFor();

    const form = page.locator('.question.pending .schema-form');
    await form.waitFor();
    await form.locator('select[name="priority"]').selectOption('high');
    await form.locator('input[name="count"]').fill('3');
    await form.locator('input[name="urgent"]').check();
    await form.locator('button[type="submit"]').click();

    await page.locator('.bubble.assistant', { hasText: 'name=Ada approval=denied form={"priority":"high","count":3,"urgent":true}' }).waitFor();
    await page.locator('.turn-end.completed').waitFor();
    expect(await page.locator('.question[data-status="resolved"]').count()).toBe(2);
    await page.context().close();
  }, 120_000);

  it('after a reload in the middle of a streamed reply, shows exactly what the agent wrote', async () => {
    const words = Array.from({ length: 24 }, (_, i) => `word${i + 1}`).join(' ');
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'slow-echo', title: 'Reload mid-stream' });
    const page = await harness.page();
    await page.goto(`/sessions/${session.id}`);
    await page.locator('[data-testid="transcript"][data-caught-up="true"]').waitFor();
    await page.locator('.composer textarea').fill(words);
    await page.locator('.composer button[type="submit"]').click();

    // Streamed text appears while it is being written...
    const streaming = page.locator('.bubble.assistant[data-done="false"] .text');
    await expect.poll(async () => ((await streaming.count()) ? (await streaming.first().textContent())!.split(' ').length : 0), { timeout: 30_000 }).toBeGreaterThanOrEqual(6);
    const before = (await streaming.first().textContent())!;
    expect(before.startsWith('You said: word1 word2 word3 word4')).toBe(true);
    await harness.screenshot(page, 'session-streaming');
    expect(before.length).toBeLessThan(`You said: ${words}`.length);

    // ...and a reload in the middle of it replays, then follows, without repeating or losing a word.
    await page.reload();
    await page.locator('.turn-end.completed').waitFor({ timeout: 60_000 });
    const shown = await page.locator('.bubble.assistant .text').allTextContents();
    const written = await writtenMessages(harness, session.id);
    expect(written[0]).toBe(`You said: ${words}`);
    expect(shown).toEqual(written);
    expect(await page.locator('.bubble.user').allTextContents()).toEqual([expect.stringContaining(words)]);
    // In order: the user's message, then what its turn wrote; the message is no longer shown as queued.
    const kinds = await page.locator('[data-testid="transcript"] > [data-kind]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-kind')));
    expect(kinds).toEqual(['user', 'message', 'tool', 'message', 'usage', 'turn-end']);
    expect(await page.locator('.bubble.user .tag').count()).toBe(0);
    await page.context().close();
  }, 120_000);

  it('interrupts a streaming reply, closes the session, and deletes it', async () => {
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'slow-echo', title: 'Stop me' });
    const page = await harness.page();
    await page.goto(`/sessions/${session.id}`);
    await page.locator('[data-testid="transcript"][data-caught-up="true"]').waitFor();
    await page.locator('.composer textarea').fill(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '));
    await page.locator('.composer button[type="submit"]').click();
    await page.locator('.bubble.assistant[data-done="false"]').waitFor();
    await page.getByRole('button', { name: 'Interrupt' }).click();
    await page.locator('.turn-end.interrupted').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.meta .badge').textContent(), { timeout: 30_000 }).toBe('idle');

    await page.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.locator('.meta .badge').textContent(), { timeout: 30_000 }).toBe('closed');
    await page.locator('.closed-note').waitFor();
    expect(await page.locator('.composer').count()).toBe(0);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL('**/sessions');
    await page.locator('[data-testid="monitor-state"][data-state="live"]').waitFor();
    expect(await page.locator(`tr[data-session-id="${session.id}"]`).count()).toBe(0);
    const response = await fetch(`${harness.server.url}/v1/sessions/${session.id}`, { headers: harness.adminKey ? { authorization: `Bearer ${harness.adminKey}` } : {} });
    expect(response.status).toBe(404);
    await page.context().close();
  }, 120_000);

  it('opens a session by its externalId', async () => {
    const { session } = await harness.api('POST', '/v1/sessions', { agent: 'echo', externalId: 'order-77', title: 'By external id' });
    await harness.api('POST', `/v1/sessions/${session.id}/messages`, { content: 'where is order 77' });
    const page = await harness.page();
    await page.goto('/sessions/order-77');
    await page.locator('.turn-end.completed').waitFor();
    expect(await page.locator('.bubble.assistant .text').allTextContents()).toEqual(await writtenMessages(harness, session.id));
    expect(await page.locator('.bubble.user').count()).toBe(1);
    await page.context().close();
  }, 120_000);

  it('creates a session from the console and talks to the agent', async () => {
    const page = await openSessions();
    await page.getByRole('button', { name: 'New session' }).click();
    await page.locator('.new-session input[name="title"]').fill('Hello from the console');
    await page.locator('.new-session textarea[name="message"]').fill('hello there');
    await page.locator('.new-session button[type="submit"]').click();
    await page.waitForURL(/\/sessions\/ses_/);
    await page.locator('.bubble.assistant', { hasText: 'You said: hello there' }).waitFor();
    await page.locator('.turn-end.completed').waitFor();

    // Fork it: the fork opens with the same transcript.
    await page.getByRole('button', { name: 'Fork' }).click();
    await page.locator('h1', { hasText: 'Hello from the console (fork)' }).waitFor();
    await page.locator('.bubble.assistant', { hasText: 'You said: hello there' }).waitFor();

    await page.goto('/sessions');
    await page.locator('tr', { hasText: 'Hello from the console (fork)' }).waitFor();
    await harness.screenshot(page, 'sessions');

    // Search is served by a later part of the server; until then the console says so.
    await page.locator('input[name="q"]').fill('hello');
    await page.locator('input[name="q"]').press('Enter');
    await page.locator('[data-testid="search-unavailable"], .search-results .hit').first().waitFor();

    const signIn = await harness.page();
    await signIn.goto('/sign-in');
    await signIn.locator('input[name="credential"]').waitFor();
    await harness.screenshot(signIn, 'sign-in');
    await signIn.context().close();
    await page.context().close();
  }, 120_000);

  it('threw no errors in any page', () => {
    expect(harness.pageErrors).toEqual([]);
  });
});
