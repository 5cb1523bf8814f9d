// A process run by index.test.ts: runMain around a service whose behaviour the environment picks.
import { ConfigError } from '@tingfeng/config';
import { runMain } from './index.js';

const mode = process.env['FIXTURE_MODE'] ?? 'ok';

await runMain({
  name: 'fixture',
  loadConfig: () => {
    if (mode === 'config-error') throw new ConfigError('FIXTURE_PORT', 'must be a number');
    return { SHUTDOWN_GRACE_MS: mode === 'slow-stop' ? 300 : 5_000 };
  },
  build: () => ({
    async start() {
      if (mode === 'start-fails') throw new Error('broker refused');
      process.stdout.write('FIXTURE started\n');
      // Keeps the process alive until a signal, as a consumer would.
      setInterval(() => undefined, 1_000);
    },
    async stop() {
      if (mode === 'slow-stop') await new Promise(() => undefined);
      process.stdout.write('FIXTURE stopped\n');
    },
  }),
});
