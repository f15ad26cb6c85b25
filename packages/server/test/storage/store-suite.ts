/**
 * The storage suite: one set of tests for the `Store` contract, run unchanged
 * against every driver. A driver's test file only builds stores and calls
 * `describeStoreSuite`; nothing in here may depend on which driver it is.
 *
 * The factory is called once per test and must return an empty store; the
 * `cleanup` it returns closes the store and removes whatever it created.
 */
import { describe } from 'vitest';
import { appendTests, createTests } from './store-create-append.js';
import { authTests } from './store-auth.js';
import { concurrencyTests } from './store-concurrency.js';
import { expiryTests } from './store-expiry.js';
import { forkTests } from './store-forks.js';
import { useStore, type StoreFactory } from './store-harness.js';
import { producerTests } from './store-producers.js';
import { readTests } from './store-reads.js';

export type { StoreFactory } from './store-harness.js';

export function describeStoreSuite(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const harness = useStore(factory);
    createTests(harness);
    appendTests(harness);
    producerTests(harness);
    readTests(harness);
    forkTests(harness);
    expiryTests(harness);
    concurrencyTests(harness);
    authTests(harness);
  });
}
