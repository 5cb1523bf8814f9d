/** `pnpm start`'s supervisor (scripts/lib/supervisor.ts): a service that exits is started again, with backoff, and the console says so. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Supervised } from '../../scripts/lib/supervisor.js';
import { waitFor } from './child-process.js';

describe('Supervised (restart: unless-stopped)', () => {
  it('restarts a service that exits non-zero, or is killed, with a doubling backoff, and says so; stop ends it for good', async () => {
    const lines: string[] = [];
    let spawned = 0;
    const service = new Supervised({
      name: 'flaky',
      say: (line) => lines.push(line),
      initialBackoffMs: 50,
      maxBackoffMs: 200,
      // The first two runs exit at once with 3 (a consumer that could not go on); later ones stay up until killed.
      spawn: () => {
        spawned += 1;
        const script = spawned <= 2 ? 'process.exit(3)' : 'setInterval(() => {}, 1000)';
        return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
      },
    });
    service.start();
    await waitFor(async () => service.restarts === 2 && service.state === 'running', 20_000, 'two restarts');
    expect(lines.slice(0, 4)).toEqual([
      '! flaky exited (exit 3); restarting in 0.1 s',
      expect.stringMatching(/^↻ flaky restarted \(restart 1, pid \d+\)$/),
      '! flaky exited (exit 3); restarting in 0.1 s',
      expect.stringMatching(/^↻ flaky restarted \(restart 2, pid \d+\)$/),
    ]);

    // SIGKILL from outside (the OOM killer, a fault test): restarted too, after the doubled wait.
    service.child!.kill('SIGKILL');
    await waitFor(async () => service.restarts === 3 && service.state === 'running', 20_000, 'a restart after SIGKILL');
    expect(lines[4]).toBe('! flaky exited (killed by SIGKILL); restarting in 0.2 s');

    const last = service.child!;
    await service.stop(5_000);
    expect(service.state).toBe('stopped');
    expect(last.signalCode).toBe('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(service.restarts).toBe(3);
    expect(spawned).toBe(4);
  });
});
