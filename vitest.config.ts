import { defineConfig } from 'vitest/config';
import LongestFirst from './test/helpers/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Most tests wait on I/O (the emulator, the databases, child processes), not the CPU: three files at
    // once keep two cores busy (the default on two cores is one at a time).
    maxWorkers: 3,
    // A worker runs its files one after another in one process: the app's modules are loaded once per worker
    // instead of once per file (half the suite's CPU time), and the database a test closed serves the next
    // test in any file (test/helpers/db.ts). Nothing in the app is a module-level singleton, and every test
    // makes its own app, database and emulator.
    isolate: false,
    // Limits catch a hang; they must not fail a test because the machine is busy. The conversation tests
    // take several times longer on two shared cores with another `npm test` running than on an idle
    // machine (one took 61–64 s against the former 60 s), so the limits leave room for that; the longest
    // tests set their own (test/flows/service.test.ts).
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // The global setup's teardown drops the run's PostgreSQL databases (10 s by default).
    teardownTimeout: 60_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // The longest files start first, with or without vitest's cache of durations.
    sequence: { sequencer: LongestFirst },
  },
});
