import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from './probes.js';

/** A redis-server of a test's own, on a free port, that the test may limit, fill or stop. */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Sends `CONFIG SET name value` (or any command) to this instance only. */
  command(...args: string[]): Promise<string>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port with no persistence, for a test that must disturb Redis
 * (`CONFIG SET maxmemory`, a restart, a wipe): the shared instance others' tests use is never touched.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const deadlineMs = Date.now() + 15_000;
  while (!(await redisAnswers(url))) {
    if (child.exitCode !== null || Date.now() > deadlineMs) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
