import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

process.env['LOG_LEVEL'] ??= 'warn';

const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());

interface Operation {
  security?: unknown[];
  'x-permission'?: string;
  responses: Record<string, unknown>;
}

describe('the incident API document, generated from the routes’ zod schemas', () => {
  it('is valid OpenAPI 3.1, and every operation it marks as needing a role refuses a caller without a token before reading the input', async () => {
    const app = await harness.start(harness.isolated());
    const api = apiClient(app);
    const doc = (await api('GET', '/api/openapi.json')).json;
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/'], 'the dashboard is not API').toBeUndefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'IncidentSummary', 'IncidentDetail']));

    const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    const guarded = operations.filter((o) => o.op['x-permission']);
    // Every /api route but the document itself takes a role.
    expect(operations.filter((o) => o.path.startsWith('/api/') && !o.op['x-permission']).map((o) => o.path)).toEqual(['/api/openapi.json']);
    expect(guarded.length).toBeGreaterThanOrEqual(20);
    for (const { path, method, op } of guarded) {
      expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
      // A body the route would refuse: the token is still what is checked first.
      const url = path.replace(/\{[^}]+\}/g, 'x') + (method === 'GET' ? '?limit=-1' : '');
      const answer = await api(method, url, undefined, method === 'GET' || method === 'DELETE' ? undefined : 'not an object');
      expect({ route: `${method} ${path}`, status: answer.status }).toEqual({ route: `${method} ${path}`, status: 401 });
    }
    const byPath = (p: string, m = 'get') => doc.paths[p][m];
    expect(byPath('/api/incidents/{id}/ack', 'post')['x-permission']).toBe('operate');
    expect(byPath('/api/incidents/{id}/notes', 'post')['x-permission']).toBe('note');
    expect(byPath('/api/channels', 'put')['x-permission']).toBe('admin');
    expect(byPath('/api/incidents').parameters.map((p: { name: string }) => p.name)).toEqual(['status', 'type', 'severity', 'scheme', 'since', 'until', 'limit', 'offset', 'cursor']);
    expect(byPath('/api/incidents').responses['200'].content['application/json'].schema.properties.items.items).toEqual({ $ref: '#/components/schemas/IncidentSummary' });
  });

  it('answers bad input with 400 invalid_request naming where and what, and a role that may not with 403', async () => {
    const app = await harness.start(harness.isolated());
    const api = apiClient(app);
    const list = await api('GET', '/api/incidents?limit=0&status=bogus', TEST_TOKENS.analyst);
    expect(list.status).toBe(400);
    expect(list.json.error).toBe('invalid_request');
    expect(list.json.message).toMatch(/^querystring\.status\.0: .*triggered.*; querystring\.limit: .*>=1/);
    expect(list.json.issues).toEqual([
      { in: 'querystring', path: 'status.0', message: expect.any(String) },
      { in: 'querystring', path: 'limit', message: expect.any(String) },
    ]);
    expect((await api('POST', '/api/incidents/x/resolve', TEST_TOKENS.oncall)).json, 'a resolve without a body is valid').toMatchObject({ error: 'not_found' });
    const note = await api('POST', '/api/incidents/x/notes', TEST_TOKENS.analyst, { text: '   ' });
    expect(note.json).toMatchObject({ error: 'invalid_request', message: 'body.text: text must not be empty' });
    expect((await api('PUT', '/api/routes', TEST_TOKENS.admin, [])).json).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^body: .*object/) });
    expect((await api('PUT', '/api/routes', TEST_TOKENS.analyst, [])).json).toEqual({ error: 'forbidden', message: 'role analyst may not admin' });
    expect((await api('GET', '/api/incidents?limit=2', TEST_TOKENS.analyst)).json).toEqual({ items: [], total: 0, limit: 2, offset: 0, nextCursor: null });
  });
});
