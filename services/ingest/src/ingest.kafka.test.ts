import { describe, expect, it, test } from 'vitest';
import type { DeadLetter } from '@tingfeng/contracts';
import { ConfigError } from '@tingfeng/config';
import { consumeAll, createTopics, deleteTopics, kafkaBrokers, makePosts, randomName, topicMessageCount } from '@tingfeng/testing';
import { createIngestApp, type IngestApp } from './app.js';
import { IngestConfigSchema, loadIngestConfig } from './config.js';

const token = 'crawler-token-0001';

/** One test's ingest: its own posts and dead-letter topics, and an app writing to them. */
interface IngestFixture {
  /** The posts topic, 2 partitions. */
  topic: string;
  dlqTopic: string;
  base: string;
  post(body: string | Buffer, contentType: string, auth?: string): Promise<Response>;
}

/** `test` with an ingest of its own, so no case reads what another wrote or counted. */
const ingestTest = test.extend<{ ingest: IngestFixture }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from the destructuring
  ingest: async ({}, use) => {
    const topic = randomName('posts');
    const dlqTopic = randomName('dlq');
    await createTopics([{ name: topic, partitions: 2 }, dlqTopic]);
    const app = createIngestApp(
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
    try {
      await app.start();
      const base = `http://127.0.0.1:${app.port}`;
      const post = (body: string | Buffer, contentType: string, auth = `Bearer ${token}`) =>
        fetch(`${base}/ingest`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: auth } });
      await use({ topic, dlqTopic, base, post });
    } finally {
      await app.stop();
      await deleteTopics([topic, dlqTopic]);
    }
  },
});

const deadLetters = async (topic: string, count: number) =>
  (await consumeAll(topic, { count, idleMs: 2000 })).map((m) => JSON.parse(m.value!) as DeadLetter);

describe('POST /ingest on a real broker', () => {
  ingestTest('accepts a JSON array, refuses the bad items with their index and reason, and dead-letters them', async ({ ingest }) => {
    const good = makePosts(3, randomName('h'));
    const res = await ingest.post(JSON.stringify([good[0], { id: 'x', text: 'no author', createdAt: '2015-10-20T10:00:00+08:00' }, good[1], 42, good[2]]), 'application/json');
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; rejected: number; rejections: { index: number; reason: string }[] };
    expect(body.accepted).toBe(3);
    expect(body.rejections).toEqual([
      expect.objectContaining({ index: 1, reason: 'missing_field' }),
      expect.objectContaining({ index: 3, reason: 'not_object' }),
    ]);

    const written = (await consumeAll(ingest.topic, { count: 3, idleMs: 2000 })).map((m) => (JSON.parse(m.value!) as { id: string }).id);
    expect(written.sort()).toEqual(good.map((p) => p.id).sort());
    const letters = await deadLetters(ingest.dlqTopic, 2);
    expect(letters.map((l) => l.reason).sort()).toEqual(['missing_field', 'not_object']);
    expect(letters[0]!.source).toEqual({ http: '/ingest' });
  });

  ingestTest('accepts NDJSON, a line at a time, and keeps unknown fields as sent', async ({ ingest }) => {
    const [a, b] = makePosts(2, randomName('n'));
    const lines = [JSON.stringify({ ...a, crawler: 'c1' }), '{"broken', JSON.stringify(b)].join('\n');
    const res = await ingest.post(lines, 'application/x-ndjson');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, rejections: [{ index: 1, reason: 'not_json' }] });

    const posts = (await consumeAll(ingest.topic, { count: 2, idleMs: 2000 })).map((m) => JSON.parse(m.value!) as Record<string, unknown>);
    expect(posts.map((p) => p.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(posts.find((p) => p.id === a!.id)?.crawler).toBe('c1');
    const letters = await deadLetters(ingest.dlqTopic, 1);
    expect(letters.map((l) => l.reason)).toEqual(['not_json']);
    expect(letters[0]!.source).toEqual({ http: '/ingest' });
  });

  ingestTest('answers 401 without a valid token, 400 for a body that is not JSON, 413 over the size limit, 415 for other types', async ({ ingest }) => {
    const { post } = ingest;
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
    expect(await topicMessageCount(ingest.topic)).toBe(0);
  });

  ingestTest('serves liveness, readiness and metrics that count what it accepted and refused', async ({ ingest }) => {
    expect((await fetch(`${ingest.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${ingest.base}/readyz`)).status).toBe(200);
    const posts = makePosts(3, randomName('m'));
    const lines = [JSON.stringify(posts[0]), '{"broken', JSON.stringify(posts[1]), JSON.stringify(posts[2])].join('\n');
    expect((await ingest.post(lines, 'application/x-ndjson')).status).toBe(202);
    const metrics = await (await fetch(`${ingest.base}/metrics`)).text();
    expect(metrics).toMatch(/tingfeng_ingest_accepted_total\{service="ingest"\} 3\n/);
    expect(metrics).toMatch(/tingfeng_ingest_rejected_total\{.*reason="not_json".*\} 1\n/);
  });

  ingestTest('refuses invalid UTF-8: the NDJSON line that carries it (dead-lettered with its bytes), a whole JSON body with 400', async ({ ingest }) => {
    const [a, b] = makePosts(2, randomName('u'));
    const bad = Buffer.concat([Buffer.from('{"id":"bad","text":"昆明'), Buffer.from([0xff, 0xfe]), Buffer.from('","createdAt":"2015-10-20T10:00:00+08:00","author":{"id":"u1"}}')]);
    const ndjson = Buffer.concat([Buffer.from(`${JSON.stringify(a)}\n`), bad, Buffer.from(`\n${JSON.stringify(b)}\n`)]);
    const res = await ingest.post(ndjson, 'application/x-ndjson');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, rejections: [{ index: 1, reason: 'invalid_utf8' }] });
    const letters = await deadLetters(ingest.dlqTopic, 1);
    expect(letters.map((l) => l.reason)).toEqual(['invalid_utf8']);
    expect(Buffer.from(letters[0]!.rawBase64, 'base64')).toEqual(bad);

    const json = Buffer.concat([Buffer.from('['), bad, Buffer.from(']')]);
    const whole = await ingest.post(json, 'application/json');
    expect(whole.status).toBe(400);
    expect(await whole.json()).toMatchObject({ error: 'invalid_utf8' });
  });

  ingestTest('refuses a post carrying a field nested 100,000 deep: that NDJSON line as too_deep, a whole JSON body with 400', async ({ ingest }) => {
    const [a, b] = makePosts(2, randomName('deep'));
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deep = `${JSON.stringify({ ...a, id: `${a!.id}-deep` }).slice(0, -1)},"x":${nested}}`;
    const res = await ingest.post([JSON.stringify(a), deep, JSON.stringify(b)].join('\n'), 'application/x-ndjson');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 1, rejections: [{ index: 1, reason: 'too_deep' }] });
    const whole = await ingest.post(`[${deep}]`, 'application/json');
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

/** One test's pair of topics for ingests started with settings of its own; `start` returns how to post to the new one. */
interface LimitsFixture {
  posts: string;
  /** Created with the broker's default record-batch limit, 1 MiB: what a topic created without settings takes per produce request. */
  letters: string;
  start(env: Record<string, string>): Promise<(body: string, contentType?: string) => Promise<Response>>;
}

const limitsTest = test.extend<{ limits: LimitsFixture }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from the destructuring
  limits: async ({}, use) => {
    const posts = randomName('posts-limits');
    const letters = randomName('dlq-limits');
    await createTopics([{ name: posts, partitions: 2 }, { name: letters, configs: { 'max.message.bytes': String(1024 * 1024) } }]);
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
    try {
      await use({ posts, letters, start });
    } finally {
      for (const a of apps) await a.stop();
      await deleteTopics([posts, letters]);
    }
  },
});

describe('POST /ingest limits, on a real broker', () => {
  limitsTest('refuses more than INGEST_MAX_ITEMS items with 413 and writes nothing', async ({ limits: { posts, letters, start } }) => {
    const send = await start({ INGEST_MAX_ITEMS: '10' });
    const batch = makePosts(11, randomName('many'));
    const ndjson = await send(batch.map((p) => JSON.stringify(p)).join('\n'));
    expect(ndjson.status).toBe(413);
    expect(await ndjson.json()).toMatchObject({ error: 'too_many_items' });
    expect((await send(JSON.stringify(batch), 'application/json')).status).toBe(413);
    // Blank lines are not items.
    expect((await send(batch.slice(0, 10).map((p) => JSON.stringify(p)).join('\n\n\n'))).status).toBe(202);
    expect(await topicMessageCount(posts)).toBe(10);
    expect(await topicMessageCount(letters)).toBe(0);
  });

  limitsTest('writes the dead letters of a request full of bad lines in slices the broker takes, beside its valid posts', async ({ limits: { posts, letters, start } }) => {
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
