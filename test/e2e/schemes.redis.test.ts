import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { schemesKey } from '@tingfeng/contracts';
import { createLogger } from '@tingfeng/logger';
import { redisKeys } from '@tingfeng/queue';
import { redisTest } from '../../packages/testing/src/index.js';
import { createAnalyzer } from '@tingfeng/text';
import { AnalyzerConfigSchema } from '../../services/analyzer/src/config.js';
import { SchemeSource } from '../../services/analyzer/src/schemes/scheme-source.js';
import { parseApiTokens } from '../../services/incidents/src/config.js';
import { configureApi } from '../../services/incidents/src/http/api.js';
import { registerConfigRoutes } from '../../services/incidents/src/http/routes/config-objects.js';

// Monitoring schemes from an admin's PUT to the analyzer's matcher: the incidents API's config routes over real
// HTTP, the analyzer's own SchemeSource (imported from services/analyzer) over real Redis, on one random prefix.

const logger = createLogger('schemes-e2e');
const analyzer = createAnalyzer();
const servers: FastifyInstance[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  analyzer.close();
});

const TOKENS = parseApiTokens('schemes-admin-token-0001:admin:管理员,schemes-analyst-token-01:analyst');
const ADMIN = 'schemes-admin-token-0001';
const ANALYST = 'schemes-analyst-token-01';

async function api(prefix: string, redis: Parameters<typeof registerConfigRoutes>[1]['redis']) {
  const app = configureApi(Fastify({ loggerInstance: logger as FastifyBaseLogger }));
  registerConfigRoutes(app, { tokens: TOKENS, redis, keys: redisKeys(prefix), logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
}

describe('monitoring schemes: incidents API → Redis → analyzer', () => {
  it('both services derive the schemes key from one REDIS_PREFIX', () => {
    expect(schemesKey(AnalyzerConfigSchema.parse({}).REDIS_PREFIX)).toBe(redisKeys().schemes);
    expect(schemesKey(AnalyzerConfigSchema.parse({ REDIS_PREFIX: 'x:' }).REDIS_PREFIX)).toBe(redisKeys('x:').schemes);
    expect(redisKeys('x:').schemes).toBe('x:config:schemes');
  });

  redisTest('an admin PUT reaches the analyzer without a restart; analysts get 403; bad rules get 400 with the position', async ({ redis, prefix }) => {
    const call = await api(prefix, redis);
    const keys = redisKeys(prefix);
    const source = new SchemeSource({ redis, key: keys.schemes, refreshMs: 50, apply: (s) => analyzer.setSchemes(s), logger });
    await source.start();
    try {
      const post = (text: string) => analyzer.analyze({ id: `p-${text.length}`, platform: 'weibo', text, createdAt: '2015-10-20T01:30:00.000Z', createdAtMs: Date.parse('2015-10-20T01:30:00.000Z'), author: { id: 'u1', name: '某网友' } } as never).schemes ?? [];
      expect(post('昆明是一座正在死去的城市')).toEqual([]);

      const dying = { name: '昆明衰落', rule: '昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气' };
      expect((await call('PUT', '/api/schemes', ANALYST, [dying])).status).toBe(403);
      expect(await redis.get(keys.schemes)).toBeNull();

      const put = await call('PUT', '/api/schemes', ADMIN, [dying]);
      expect(put.status).toBe(200);
      expect(JSON.parse((await redis.get(keys.schemes))!)).toEqual([dying]);
      await expect.poll(() => post('昆明是一座正在死去的城市'), { timeout: 5000 }).toEqual(['昆明衰落']);
      expect(post('昆明的天气像死去一样闷')).toEqual([]);

      // A bad rule: 400 naming the scheme and where the rule goes wrong (13: the end, where OR wants a term); nothing stored.
      const bad = await call('PUT', '/api/schemes', ADMIN, [dying, { name: '滇池', rule: '滇池 AND (污染 OR' }]);
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({ error: 'invalid_scheme', scheme: '滇池', position: 13 });
      expect(String(bad.json?.['message'])).toContain('滇池');
      expect(JSON.parse((await redis.get(keys.schemes))!)).toEqual([dying]);
      // Disabled schemes are checked too; duplicate names are refused.
      expect((await call('PUT', '/api/schemes', ADMIN, [{ name: 'x', rule: 'AND 昆明', enabled: false }])).json).toMatchObject({ scheme: 'x', position: 0 });
      expect((await call('PUT', '/api/schemes', ADMIN, [dying, dying])).json).toMatchObject({ error: 'invalid_scheme', scheme: '昆明衰落' });
      expect((await call('PUT', '/api/schemes', ADMIN, [{ name: '', rule: '昆明' }])).json).toMatchObject({ error: 'invalid_request' });

      // One scheme by name, then removed; each change audited.
      const official = { rule: '', accounts: ['@昆明发布'] };
      expect((await call('PUT', `/api/schemes/${encodeURIComponent('官方')}`, ADMIN, official)).status).toBe(200);
      expect((await call('GET', '/api/schemes', ADMIN)).json).toEqual([dying, { ...official, name: '官方' }]);
      // Every role reads the schemes (they filter by them); only admins change them.
      expect((await call('GET', '/api/schemes', ANALYST)).json).toEqual([dying, { ...official, name: '官方' }]);
      expect((await call('DELETE', `/api/schemes/${encodeURIComponent('昆明衰落')}`, ANALYST)).status).toBe(403);
      expect((await call('DELETE', `/api/schemes/${encodeURIComponent('昆明衰落')}`, ADMIN)).status).toBe(204);
      expect((await call('DELETE', `/api/schemes/${encodeURIComponent('昆明衰落')}`, ADMIN)).status).toBe(404);
      await expect.poll(() => post('昆明是一座正在死去的城市'), { timeout: 5000 }).toEqual([]);
      const audit = (await call('GET', '/api/audit', ADMIN)).json as unknown as { action: string; actor: string; target: string }[];
      expect(audit.map((a) => a.action)).toEqual(['schemes.delete', 'schemes.upsert', 'schemes.put']);
      expect(audit[2]).toMatchObject({ actor: '管理员', target: '昆明衰落' });
    } finally {
      source.stop();
    }
  });
});
