import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '@tingfeng/contracts';
import { consumeAll, createTopics, deleteTopics, kafkaBrokers, makePosts, randomName } from '@tingfeng/testing';
import { createIngestApp, type IngestApp } from './app.js';
import { IngestConfigSchema } from './config.js';

const topic = randomName('posts');
const dlqTopic = randomName('dlq');
const token = 'crawler-token-1';
let app: IngestApp;
let base: string;

const post = (body: string, contentType: string, auth = `Bearer ${token}`) =>
  fetch(`${base}/ingest`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: auth } });

describe('POST /ingest on a real broker', () => {
  beforeAll(async () => {
    await createTopics([{ name: topic, partitions: 2 }, dlqTopic]);
    app = createIngestApp(
      IngestConfigSchema.parse({
        KAFKA_BROKERS: kafkaBrokers().join(','),
        INGEST_TOPIC: topic,
        INGEST_DLQ_TOPIC: dlqTopic,
        INGEST_HOST: '127.0.0.1',
        INGEST_PORT: '0',
        INGEST_MAX_BODY_BYTES: String(256 * 1024),
        INGEST_TOKENS: token,
      }),
    );
    await app.start();
    base = `http://127.0.0.1:${app.port}`;
  });

  afterAll(async () => {
    await app?.stop();
    await deleteTopics([topic, dlqTopic]);
  });

  it('accepts a JSON array, refuses the bad items with their index and reason, and dead-letters them', async () => {
    const good = makePosts(3, randomName('h'));
    const res = await post(JSON.stringify([good[0], { id: 'x', text: 'no author', createdAt: '2015-10-20T10:00:00+08:00' }, good[1], 42, good[2]]), 'application/json');
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; rejected: number; rejections: { index: number; reason: string }[] };
    expect(body.accepted).toBe(3);
    expect(body.rejections).toEqual([
      expect.objectContaining({ index: 1, reason: 'missing_field' }),
      expect.objectContaining({ index: 3, reason: 'not_object' }),
    ]);
  });

  it('accepts NDJSON, a line at a time, and keeps unknown fields as sent', async () => {
    const [a, b] = makePosts(2, randomName('n'));
    const lines = [JSON.stringify({ ...a, crawler: 'c1' }), '{"broken', JSON.stringify(b)].join('\n');
    const res = await post(lines, 'application/x-ndjson');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, rejections: [{ index: 1, reason: 'not_json' }] });

    const posts = await consumeAll(topic, { count: 5, idleMs: 2000 });
    expect(posts.length).toBe(5);
    const withExtra = posts.map((m) => JSON.parse(m.value!) as Record<string, unknown>).find((p) => p.id === a!.id);
    expect(withExtra?.crawler).toBe('c1');
    const letters = await consumeAll(dlqTopic, { count: 3, idleMs: 2000 });
    expect(letters.map((m) => (JSON.parse(m.value!) as DeadLetter).reason).sort()).toEqual(['missing_field', 'not_json', 'not_object']);
    expect((JSON.parse(letters[0]!.value!) as DeadLetter).source).toEqual({ http: '/ingest' });
  });

  it('answers 401 without a valid token, 400 for a body that is not JSON, 413 over the size limit, 415 for other types', async () => {
    expect((await post('[]', 'application/json', 'Bearer wrong')).status).toBe(401);
    expect((await post('[', 'application/json')).status).toBe(400);
    expect((await post(JSON.stringify([{ text: 'x'.repeat(300 * 1024) }]), 'application/json')).status).toBe(413);
    expect((await post('<posts/>', 'application/xml')).status).toBe(415);
  });

  it('serves liveness, readiness and metrics', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/tingfeng_ingest_accepted_total\{service="ingest"\} 5/);
    expect(metrics).toMatch(/tingfeng_ingest_rejected_total\{.*reason="not_json".*\} 1/);
  });

  it('refuses invalid UTF-8: the NDJSON line that carries it (dead-lettered with its bytes), a whole JSON body with 400', async () => {
    const [a, b] = makePosts(2, randomName('u'));
    const bad = Buffer.concat([Buffer.from('{"id":"bad","text":"昆明'), Buffer.from([0xff, 0xfe]), Buffer.from('","createdAt":"2015-10-20T10:00:00+08:00","author":{"id":"u1"}}')]);
    const ndjson = Buffer.concat([Buffer.from(`${JSON.stringify(a)}\n`), bad, Buffer.from(`\n${JSON.stringify(b)}\n`)]);
    const res = await fetch(`${base}/ingest`, { method: 'POST', body: ndjson, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, rejections: [{ index: 1, reason: 'invalid_utf8' }] });
    const letters = await consumeAll(dlqTopic, { count: 4, idleMs: 2000 });
    const letter = letters.map((m) => JSON.parse(m.value!) as DeadLetter).find((l) => l.reason === 'invalid_utf8');
    expect(Buffer.from(letter!.rawBase64, 'base64')).toEqual(bad);

    const json = Buffer.concat([Buffer.from('['), bad, Buffer.from(']')]);
    const whole = await fetch(`${base}/ingest`, { method: 'POST', body: json, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    expect(whole.status).toBe(400);
    expect(await whole.json()).toMatchObject({ error: 'invalid_utf8' });
  });

  it('refuses a post carrying a field nested 100,000 deep: that NDJSON line as too_deep, a whole JSON body with 400', async () => {
    const [a, b] = makePosts(2, randomName('deep'));
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deep = `${JSON.stringify({ ...a, id: `${a!.id}-deep` }).slice(0, -1)},"x":${nested}}`;
    const res = await post([JSON.stringify(a), deep, JSON.stringify(b)].join('\n'), 'application/x-ndjson');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, rejections: [{ index: 1, reason: 'too_deep' }] });
    const whole = await post(`[${deep}]`, 'application/json');
    expect(whole.status).toBe(400);
    expect(await whole.json()).toMatchObject({ error: 'too_deep' });
  });
});
