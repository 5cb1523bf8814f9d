import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '@tingfeng/logger';

/** The versioned migration files, applied in name order (`0001_posts.sql`, …): the only place the schema is defined. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `schema` is a plain lower-case identifier (it is put into `search_path` and DDL unquoted). */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`archive schema ${JSON.stringify(schema)} must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)`);
  return schema;
}

export interface MigrateOptions {
  databaseUrl: string;
  /** The archive's schema; created when missing. */
  schema: string;
  logger?: Logger;
}

/**
 * Applies the pending migrations to `schema` with node-pg-migrate, inside one transaction, holding its advisory lock
 * (processes starting together wait for each other instead of failing). Returns the names applied (none when the
 * archive is up to date).
 */
export async function migrateArchive(options: MigrateOptions): Promise<string[]> {
  const schema = checkSchemaName(options.schema);
  const log = options.logger;
  const applied = await runner({
    databaseUrl: options.databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    schema,
    createSchema: true,
    migrationsTable: 'pgmigrations',
    singleTransaction: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    logger: {
      debug: (msg: string) => log?.debug(msg),
      info: (msg: string) => log?.debug(msg),
      warn: (msg: string) => log?.warn(msg),
      error: (msg: string) => log?.error(msg),
    },
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) log?.info({ schema, migrations: names }, 'archive migrated');
  return names;
}
