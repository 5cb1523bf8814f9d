import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '@tingfeng/contracts';
import { ConfigError } from '@tingfeng/config';
import { consumeAll, createTopics, deleteTopics, kafkaBrokers, makePosts, randomName, topicMessageCount } from '@tingfeng/testing';
import { createIngestApp, type IngestApp } from './app.js';
import { IngestConfigSchema, loadIngestConfig } from './config.js';

const topic = randomName('posts');
const dlqTopic = randomName('dlq');
const token = 'crawler-token-0001';
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
    expect((await post('[]', 'application/json', `Bearer ${token.slice(0, -1)}`)).status).toBe(401);
    expect((await post('[]', 'application/json', `Bearer ${token}x`)).status).toBe(401);
    expect((await post('[]', 'application/json', '')).status).toBe(401);
    expect((await post('[]', 'application/json', `Basic ${token}`)).status).toBe(401);
    expect((await post('[', 'application/json')).status).toBe(400);
    expect((await post(JSON.stringify([{ text: 'x'.repeat(300 * 1024) }]), 'application/json')).status).toBe(413);
    expect((await post('<posts/>', 'application/xml')).status).toBe(415);
    // Types a web page may post cross-site without a preflight: none is read.
    const [p] = makePosts(1, randomName('plain'));
    expect((await post(JSON.stringify(p), 'text/plain')).status).toBe(415);
    expect((await post(JSON.stringify(p), 'text/plain;charset=UTF-8')).status).toBe(415);
    expect((await post(`a=${encodeURIComponent(JSON.stringify(p))}`, 'application/x-www-form-urlencoded')).status).toBe(415);
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

describe('ingest is closed by default', () => {
  it('does not start without a token unless anonymous callers are allowed explicitly; short tokens are refused', () => {
    expect(() => loadIngestConfig({})).toThrow(ConfigError);
    expect(() => loadIngestConfig({})).toThrow(/^invalid configuration: INGEST_TOKENS: required/);
    expect(loadIngestConfig({ INGEST_ALLOW_ANONYMOUS: 'true' })).toMatchObject({ INGEST_TOKENS: [], INGEST_ALLOW_ANONYMOUS: true });
    expect(loadIngestConfig({ INGEST_TOKENS: token })).toMatchObject({ INGEST_TOKENS: [token], INGEST_ALLOW_ANONYMOUS: false });
    expect(() => loadIngestConfig({ INGEST_TOKENS: 'short-token' })).toThrow('invalid configuration: INGEST_TOKENS: entry 1 of 1 is shorter than 16 characters');
    expect(() => loadIngestConfig({ INGEST_TOKENS: token, INGEST_ALLOW_ANONYMOUS: 'true' })).toThrow(/INGEST_ALLOW_ANONYMOUS/);
  });
});

describe('POST /ingest limits, on a real broker', () => {
  const posts = randomName('posts-limits');
  // The broker's default record-batch limit, 1 MiB: what a topic created without settings takes per produce request.
  const letters = randomName('dlq-limits');
  const apps: IngestApp[] = [];
  const start = async (env: Record<string, string>) => {
    const a = createIngestApp(
      IngestConfigSchema.parse({
        KAFKA_BROKERS: kafkaBrokers().join(','),
        INGEST_TOPIC: posts,
        INGEST_DLQ_TOPIC: letters,
        INGEST_HOST: '127.0.0.1',
        INGEST_PORT: '0',
        INGEST_TOKENS: token,
        ...env,
      }),
    );
    apps.push(a);
    await a.start();
    return (body: string, contentType = 'application/x-ndjson') =>
      fetch(`http://127.0.0.1:${a.port}/ingest`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${token}` } });
  };

  beforeAll(async () => {
    await createTopics([{ name: posts, partitions: 2 }, { name: letters, configs: { 'max.message.bytes': String(1024 * 1024) } }]);
  });
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await deleteTopics([posts, letters]);
  });

  it('refuses more than INGEST_MAX_ITEMS items with 413 and writes nothing', async () => {
    const send = await start({ INGEST_MAX_ITEMS: '10' });
    const batch = makePosts(11, randomName('many'));
    const before = (await topicMessageCount(posts)) + (await topicMessageCount(letters));
    const ndjson = await send(batch.map((p) => JSON.stringify(p)).join('\n'));
    expect(ndjson.status).toBe(413);
    expect(await ndjson.json()).toMatchObject({ error: 'too_many_items' });
    expect((await send(JSON.stringify(batch), 'application/json')).status).toBe(413);
    // Blank lines are not items.
    expect((await send(batch.slice(0, 10).map((p) => JSON.stringify(p)).join('\n\n\n'))).status).toBe(202);
    expect((await topicMessageCount(posts)) + (await topicMessageCount(letters))).toBe(before + 10);
  });

  it('writes the dead letters of a request full of bad lines in slices the broker takes, beside its valid posts', async () => {
    // 4,000 bad lines of 100 bytes: 400 KB of body, about 1.6 MB of dead letters, more than one record batch of the
    // dead-letter topic may hold. Sent at once the broker refuses them and every retry of the caller gets a 503.
    const good = makePosts(3, randomName('slice'));
    const bad = Array.from({ length: 4_000 }, (_, i) => `{"broken":${i},"pad":"${'x'.repeat(80)}"`);
    const body = [JSON.stringify(good[0]), ...bad.slice(0, 2_000), JSON.stringify(good[1]), ...bad.slice(2_000), JSON.stringify(good[2])].join('\n');
    expect(Buffer.byteLength(body)).toBeGreaterThan(400_000);

    const unsliced = await start({ INGEST_SEND_SLICE_BYTES: String(64 * 1024 * 1024) });
    const refused = await unsliced(body);
    expect(refused.status).toBe(503);

    const lettersBefore = await topicMessageCount(letters);
    const sliced = await start({});
    const res = await sliced(body);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 3, rejected: 4_000 });
    expect((await topicMessageCount(letters)) - lettersBefore).toBe(4_000);
    const written = (await consumeAll(posts, { idleMs: 2000 })).map((m) => (JSON.parse(m.value!) as { id: string }).id);
    for (const p of good) expect(written).toContain(p.id);
  });
});
