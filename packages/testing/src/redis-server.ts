import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from './probes.js';

/** A redis-server of a test's own, on a free port, that the test may limit, fill, stop and start again. */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Sends `CONFIG SET name value` (or any command) to this instance only. */
  command(...args: string[]): Promise<string>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s); safe to call twice. With `persistent`, what it held survives. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()); resolves once it answers PING. */
  start(): Promise<void>;
}

export interface PrivateRedisOptions {
  /**
   * Keep the data across stop() and start(): an append-only file fsynced on every write, in a temporary directory
   * removed when the test process exits. Without it, a restart is a wipe.
   */
  persistent?: boolean;
}

/**
 * Starts `redis-server` on a free loopback port, without persistence unless asked, for a test that must disturb Redis
 * (`CONFIG SET maxmemory`, a restart, a wipe): the shared instance others' tests use is never touched.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = options.persistent ? mkdtempSync(join(tmpdir(), 'tingfeng-redis-')) : undefined;
  if (dir) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const persistence = dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''] : ['--save', '', '--appendonly', 'no'];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...persistence, '--protected-mode', 'yes'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child = proc;
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const deadlineMs = Date.now() + 15_000;
    while (!(await redisAnswers(url))) {
      if (proc.exitCode !== null || Date.now() > deadlineMs) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await start();
  return {
    url,
    port,
    command: async (...args) => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        return String(await client.call(args[0]!, ...args.slice(1)));
      } finally {
        client.disconnect();
      }
    },
    stop: async () => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    start,
  };
}
