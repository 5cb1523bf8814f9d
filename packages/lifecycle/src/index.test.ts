import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@tingfeng/logger';
import { SerialQueue, ShutdownRegistry, TIMED_OUT, withTimeout } from './index.js';

const fixture = join(import.meta.dirname, 'main.fixture.ts');
const env = (mode: string) => ({ ...process.env, FIXTURE_MODE: mode, LOG_LEVEL: 'silent' });

describe('SerialQueue', () => {
  it('runs one piece of work at a time, in order, and goes on after one that fails', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const step = (name: string, ms: number, fail = false) =>
      queue.run(async () => {
        running += 1;
        log.push(`${name}:${running}`);
        await new Promise((r) => setTimeout(r, ms));
        running -= 1;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('a', 30), step('b', 1, true), step('c', 10)]);
    expect(log).toEqual(['a:1', 'b:1', 'c:1']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'b', 'c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('ShutdownRegistry', () => {
  const logger = createLogger('test');

  it('runs cleanups in reverse order of registration, every one even when an earlier one throws', async () => {
    const ran: string[] = [];
    const registry = new ShutdownRegistry(logger);
    registry.register('first', () => void ran.push('first'));
    registry.register('second', () => {
      ran.push('second');
      throw new Error('boom');
    });
    registry.register('third', async () => void ran.push('third'));
    await registry.run();
    expect(ran).toEqual(['third', 'second', 'first']);
  });

  it('gives up on a cleanup that outlives its deadline and goes on with the next', async () => {
    const ran: string[] = [];
    const registry = new ShutdownRegistry(logger, 50);
    registry.register('after', () => void ran.push('after'));
    registry.register('hangs', () => new Promise<void>(() => undefined));
    await registry.run();
    expect(ran).toEqual(['after']);
  });

  it('runs its cleanups once however often it is called', async () => {
    let count = 0;
    const registry = new ShutdownRegistry(logger);
    registry.register('counted', () => void count++);
    await Promise.all([registry.run(), registry.run()]);
    await registry.run();
    expect(count).toBe(1);
  });
});

describe('withTimeout', () => {
  it("gives the promise's value when it comes first, TIMED_OUT when the time does, and passes a rejection on", async () => {
    expect(await withTimeout(Promise.resolve(7), 1_000)).toBe(7);
    expect(await withTimeout(new Promise(() => undefined), 10)).toBe(TIMED_OUT);
    await expect(withTimeout(Promise.reject(new Error('refused')), 1_000)).rejects.toThrow('refused');
  });
});

describe('runMain', () => {
  it('prints one line naming the variable and exits 78 on a configuration error', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', fixture], { env: env('config-error'), encoding: 'utf8' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual(['invalid configuration: FIXTURE_PORT: must be a number']);
  });

  it('exits 1 when the service cannot start', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', fixture], { env: env('start-fails'), encoding: 'utf8' });
    expect(result.status).toBe(1);
  });

  it('stops the service on SIGTERM and exits 0; a stop past the grace period exits 1', async () => {
    for (const [mode, expected] of [
      ['ok', 0],
      ['slow-stop', 1],
    ] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env: env(mode), stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await expect.poll(() => out, { timeout: 30_000 }).toContain('FIXTURE started');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(expected);
      expect(out.includes('FIXTURE stopped')).toBe(mode === 'ok');
    }
  });
});
