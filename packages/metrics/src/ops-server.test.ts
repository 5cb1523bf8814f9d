import { describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { Counter, createRegistry, scrapeSum, startOpsServer } from './index.js';

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

  it('hands every request it does not answer itself to the fallback, and none of its own', async () => {
    const seen: string[] = [];
    const ops = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: createRegistry('test'),
      isReady: () => true,
      routes: { '/role': () => ({ role: 'leader' }) },
      fallback: (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.writeHead(202).end();
      },
    });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      for (const path of ['/healthz', '/readyz', '/metrics', '/role', '/healthz?probe=1']) expect([path, (await fetch(`${base}${path}`)).status]).toEqual([path, 200]);
      expect((await fetch(`${base}/hook`, { method: 'POST', body: '{}' })).status).toBe(202);
      expect((await fetch(`${base}/healthz`, { method: 'POST', body: '{}' })).status).toBe(202);
      expect((await fetch(`${base}/elsewhere`)).status).toBe(202);
      expect(seen).toEqual(['POST /hook', 'POST /healthz', 'GET /elsewhere']);
    } finally {
      await ops.close();
    }
  });

  it('without a fallback: 405 to other methods, 404 to other paths', async () => {
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: createRegistry('test'), isReady: () => true });
    try {
      expect((await fetch(`http://127.0.0.1:${ops.port}/healthz`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`http://127.0.0.1:${ops.port}/elsewhere`)).status).toBe(404);
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

/** An address of this machine that is not loopback, to call from "elsewhere"; undefined on a machine with none. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

describe('guarded ops routes', () => {
  const routes = { '/deliveries/failed': () => ({ count: 1, deliveries: [{ failedReason: 'request failed: ECONNREFUSED' }] }) };

  it('with an ops token: only with that bearer token', async () => {
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: createRegistry('test'), isReady: () => true, guardedRoutes: routes, opsToken: 'ops-token-0123456789' });
    try {
      const url = `http://127.0.0.1:${ops.port}/deliveries/failed`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer ops-token-012345678' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: 'Bearer ops-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ count: 1 });
      // Probes and scrapes need no token.
      expect((await fetch(`http://127.0.0.1:${ops.port}/metrics`)).status).toBe(200);
    } finally {
      await ops.close();
    }
  });

  it.skipIf(externalAddress === undefined)('without one: to loopback callers only', async () => {
    const ops = await startOpsServer({ port: 0, host: '0.0.0.0', registry: createRegistry('test'), isReady: () => true, guardedRoutes: routes });
    try {
      expect((await fetch(`http://127.0.0.1:${ops.port}/deliveries/failed`)).status).toBe(200);
      expect((await fetch(`http://${externalAddress}:${ops.port}/deliveries/failed`)).status).toBe(403);
      expect((await fetch(`http://${externalAddress}:${ops.port}/healthz`)).status).toBe(200);
    } finally {
      await ops.close();
    }
  });

  it('scrapeSum adds a series over its label sets from /metrics, and reads 0 while nothing answers', async () => {
    const registry = createRegistry('test');
    const counter = new Counter({ name: 'tingfeng_test_things_total', help: 'things', labelNames: ['kind'], registers: [registry] });
    counter.inc({ kind: 'a' }, 2);
    counter.inc({ kind: 'b' }, 3.5);
    const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry, isReady: () => true });
    const port = ops.port;
    try {
      expect(await scrapeSum(port, 'tingfeng_test_things_total')).toBe(5.5);
      expect(await scrapeSum(port, 'tingfeng_test_absent_total')).toBe(0);
    } finally {
      await ops.close();
    }
    expect(await scrapeSum(port, 'tingfeng_test_things_total')).toBe(0);
  });
});
