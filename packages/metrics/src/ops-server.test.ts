import { describe, expect, it } from 'vitest';
import { createRegistry, startOpsServer } from './index.js';

describe('startOpsServer', () => {
  it('answers /healthz 200 while live and 503 once a part has failed for good', async () => {
    let live = true;
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: createRegistry('test'), isReady: () => false, isLive: () => live });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      live = false;
      const res = await fetch(`${base}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'failed' });
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
    } finally {
      await ops.close();
    }
  });

  it('is live without an isLive check', async () => {
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: createRegistry('test'), isReady: () => true });
    try {
      expect((await fetch(`http://127.0.0.1:${ops.port}/healthz`)).status).toBe(200);
    } finally {
      await ops.close();
    }
  });
});
