import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresAnswers, startThrowawayPostgres } from './postgres.js';

// What a fresh machine with no PostgreSQL relies on (the global setup and `pnpm start` fall back to it).
describe('startThrowawayPostgres', () => {
  it('starts a server from the packaged binaries, serves SQL, and leaves nothing behind when stopped', async () => {
    const server = await startThrowawayPostgres();
    let dataDir: string | undefined;
    try {
      const client = new pg.Client(server.url);
      await client.connect();
      try {
        dataDir = (await client.query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'data_directory'`)).rows[0]!.setting;
        const version = (await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num;
        expect(Number(version)).toBeGreaterThanOrEqual(180000);
      } finally {
        await client.end();
      }
      expect(dataDir !== undefined && existsSync(dataDir)).toBe(true);
    } finally {
      await server.stop();
      await server.stop();
    }
    expect(await postgresAnswers(server.url)).toBe(false);
    expect(existsSync(dataDir!)).toBe(false);
  });
});
