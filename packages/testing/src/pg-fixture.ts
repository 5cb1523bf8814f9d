import { test } from 'vitest';
import { databaseUrl, dropSchema, randomSchemaName } from './postgres.js';

/** What `pgTest` adds to each test's context. */
export interface PgFixtures {
  /** The server's URL (`DATABASE_URL`, or the throwaway server the global setup started). */
  databaseUrl: string;
  /** A schema name no other test uses (`t_<random>`); dropped with everything in it after the test. */
  pgSchema: string;
}

/**
 * `test` with a real PostgreSQL: `pgTest('…', async ({ databaseUrl, pgSchema }) => …)`. Put every table in
 * `pgSchema` (the archive: `createArchive({ databaseUrl, schema: pgSchema })`), so test files can run in parallel on
 * one server; the schema is dropped after the test, whatever it left.
 */
export const pgTest = test.extend<PgFixtures>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from the destructuring
  databaseUrl: async ({}, use) => {
    await use(databaseUrl());
  },
  pgSchema: async ({ databaseUrl: url }, use) => {
    const schema = randomSchemaName();
    try {
      await use(schema);
    } finally {
      await dropSchema(url, schema);
    }
  },
});
