import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/**/*.test.ts', 'services/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Starts Kafka, Redis and PostgreSQL when they are not already up, and creates the system's topics.
    globalSetup: ['test/global-setup.ts'],
    // Real brokers: a first consumer-group join or transaction can take seconds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // kafkajs and ioredis hold sockets and timers; separate processes isolate them better than threads.
    pool: 'forks',
    // A 2-core machine that also runs the broker: at most two test files at once.
    maxWorkers: 2,
    fileParallelism: true,
    // Services started inside a test log only what goes wrong; LOG_LEVEL=info shows everything.
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    // In CI the results are also written as JSON, so .ci/run can close with one plain "N passed, N failed" line.
    reporters: process.env.CI === 'true' ? ['default', ['json', { outputFile: '.cache/vitest-results.json' }]] : ['default'],
  },
});
