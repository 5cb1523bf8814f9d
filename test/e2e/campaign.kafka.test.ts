import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedPost } from '../../packages/contracts/src/index.js';
import { TOPIC_SPECS, TOPICS } from '../../packages/contracts/src/index.js';
import { DEFAULT_CONFIG, dyingCityScenario, SCENARIO_EPOCH_MS } from '../../packages/detect/src/index.js';
import { redisKeys, type CampaignSeries } from '../../packages/queue/src/index.js';
import { Redis } from '../../packages/redis/src/index.js';
import { createTestKafka, createTopics, deleteKeysWithPrefix, deleteTopics, kafkaBrokers, randomName, redisUrl } from '../../packages/testing/src/index.js';
import { createDetectorApp } from '../../services/detector/src/app.js';
import { DetectorServiceConfigSchema } from '../../services/detector/src/config.js';
import { createIncidentsApp } from '../../services/incidents/src/app.js';
import { IncidentsConfigSchema } from '../../services/incidents/src/config.js';

/**
 * A response campaign through real Kafka, Redis and HTTP: the dying-city episode's enriched posts up to the city's
 * rebuttal go to the detector (global mode); the incident it opens is marked answered by the official accounts from
 * the rebuttal's start; then the rest of the episode follows, and the incident's detail shows, per bucket, the
 * narrative against the response.
 */

const run = randomName('campaign');
const topic = (name: string) => `${run}.${name}`;
const tokens = { oncall: 'campaign-oncall-token', analyst: 'campaign-analyst-token' };
const BUCKET_MS = 10 * 60_000;
const rebuttalOnsetMs = SCENARIO_EPOCH_MS + 24 * 3_600_000 + 13 * 3_600_000;
const scenario = dyingCityScenario();
const before = scenario.posts.filter((p) => p.createdAtMs < rebuttalOnsetMs);
const after = scenario.posts.filter((p) => p.createdAtMs >= rebuttalOnsetMs);
const officials = new Set(DEFAULT_CONFIG.officialAccounts);
const responsePosts = scenario.posts.filter((p) => p.author.name !== undefined && officials.has(p.author.name));

type Stoppable = { stop(): Promise<void> };
const started: Stoppable[] = [];
let redis: Redis;
let api: (method: string, path: string, token: string, body?: unknown) => Promise<{ status: number; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function produce(posts: EnrichedPost[]): Promise<void> {
  const producer = createTestKafka().producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < posts.length; i += 1000) {
    const messages = posts.slice(i, i + 1000).map((p) => ({ key: p.rootId ?? p.id, value: JSON.stringify(p) }));
    await producer.send({ topic: topic(TOPICS.postsEnriched), messages, acks: -1 });
  }
  await producer.disconnect();
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('a response campaign, tracked by the detector, on the incident page', () => {
  beforeAll(async () => {
    redis = new Redis(redisUrl());
    const specs = TOPIC_SPECS.filter((s) => s.name === TOPICS.postsEnriched || s.name === TOPICS.incidentEvents);
    await createTopics(specs.map((s) => ({ name: topic(s.name), partitions: s.partitions, ...(s.configs ? { configs: s.configs } : {}) })));
    const shared = { KAFKA_BROKERS: kafkaBrokers().join(','), REDIS_URL: redisUrl(), REDIS_PREFIX: `${run}:`, QUEUE_PREFIX: run };
    const incidents = createIncidentsApp(
      IncidentsConfigSchema.parse({
        ...shared,
        INCIDENT_EVENTS_TOPIC: topic(TOPICS.incidentEvents),
        INCIDENTS_GROUP_ID: `${run}-incidents`,
        INCIDENTS_PORT: '0',
        API_TOKENS: `${tokens.oncall}:oncall:值班员,${tokens.analyst}:analyst:分析员`,
      }),
    );
    const detector = createDetectorApp(
      DetectorServiceConfigSchema.parse({
        ...shared,
        DETECTOR_INPUT_TOPIC: topic(TOPICS.postsEnriched),
        DETECTOR_GROUP_ID: `${run}-detector`,
        DETECTOR_INSTANCE_ID: 'campaign',
        DETECTOR_CHECKPOINT_PREFIX: `${run}:detector:`,
        DETECTOR_IDLE_PARTITION_MS: '2000',
        CAMPAIGN_REFRESH_MS: '250',
        CAMPAIGN_FLUSH_MS: '250',
        CAMPAIGN_BUCKET_MS: String(BUCKET_MS),
        METRICS_PORT: '0',
      }),
    );
    for (const app of [incidents, detector]) {
      started.push(app);
      await app.start();
    }
    const base = `http://127.0.0.1:${incidents.port}`;
    api = async (method, path, token, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    };
    await produce(before);
  }, 180_000);

  afterAll(async () => {
    for (const app of started.reverse()) await app.stop().catch(() => undefined);
    await deleteKeysWithPrefix(redis, `${run}:`);
    redis.disconnect();
    await deleteTopics([topic(TOPICS.postsEnriched), topic(TOPICS.incidentEvents)]);
  });

  it('counts response and narrative posts per bucket from the rebuttal on, and shows both in the detail', async () => {
    const incident = await eventually(
      async () => {
        const list = await api('GET', '/api/incidents?type=cascade', tokens.analyst);
        return list.json?.items?.[0] as { id: string; key: string } | undefined;
      },
      120_000,
      'the dying-city incident',
    );
    expect(incident.key).toMatch(/^cascade:/);

    const startedAt = new Date(rebuttalOnsetMs).toISOString();
    const marked = await api('POST', `/api/incidents/${incident.id}/response`, tokens.oncall, { accounts: DEFAULT_CONFIG.officialAccounts, startedAt });
    expect(marked.status).toBe(200);
    expect(marked.json.campaign).toMatchObject({ accounts: DEFAULT_CONFIG.officialAccounts, startedAt });

    // The registry the detector reads: narrative terms from the alerts, the cascade's root.
    const keys = redisKeys(`${run}:`);
    expect(await redis.smembers(keys.campaignsActive)).toEqual([incident.id]);
    const record = JSON.parse((await redis.get(keys.campaign(incident.id)))!) as { terms: string[]; rootIds: string[]; incidentKey: string };
    expect(record.incidentKey).toBe(incident.key);
    expect(record.terms).toContain('死去');
    expect(record.rootIds).toEqual([incident.key.slice('cascade:'.length)]);

    // The leader picks it up and fills the buckets before the response from the posts it has seen.
    const early = await eventually(async () => (await api('GET', `/api/incidents/${incident.id}`, tokens.analyst)).json?.campaignSeries as CampaignSeries | undefined, 30_000, 'a first campaign series');
    expect(early.bucketMs).toBe(BUCKET_MS);
    expect(early.startedAtMs).toBe(rebuttalOnsetMs);
    expect(sum(early.narrative)).toBeGreaterThan(100);
    expect(early.baseline?.narrative).toBeGreaterThan(0);

    await produce(after);
    const series = await eventually(
      async () => {
        const s = (await api('GET', `/api/incidents/${incident.id}`, tokens.analyst)).json?.campaignSeries as CampaignSeries | undefined;
        return s && sum(s.response) === responsePosts.length && s.eventTimeMs !== null && s.eventTimeMs >= rebuttalOnsetMs + 6 * 3_600_000 ? s : undefined;
      },
      120_000,
      'the whole rebuttal in the campaign series',
    );
    const startIndex = (rebuttalOnsetMs - series.startMs) / BUCKET_MS;
    expect(Number.isInteger(startIndex)).toBe(true);
    // Every response post sits in a bucket from the response's start; their reach is their authors' followers.
    expect(sum(series.response.slice(0, startIndex))).toBe(0);
    expect(sum(series.reach)).toBe(sum(responsePosts.map((p) => p.author.followers ?? 0)));
    expect(series.response.filter((n) => n > 0).length).toBeGreaterThanOrEqual(6);
    // The narrative goes on after the response, with a negative share, and fades.
    const afterStart = series.narrative.slice(startIndex);
    expect(afterStart.slice(0, 12).every((n) => n > 0)).toBe(true);
    expect(afterStart[0]!).toBeGreaterThan(afterStart[afterStart.length - 1]!);
    expect(series.negative.every((neg, i) => neg <= series.narrative[i]!)).toBe(true);
    expect(sum(series.negative.slice(startIndex))).toBeGreaterThan(0);
    // It fades, so no `response` alert about the campaign.
    const detail = await api('GET', `/api/incidents/${incident.id}`, tokens.analyst);
    expect(detail.json.alerts.some((a: { key: string }) => a.key.startsWith('campaign:'))).toBe(false);

    // Resolving the incident ends the tracking; the curves stay for the incident page.
    expect((await api('POST', `/api/incidents/${incident.id}/resolve`, tokens.oncall)).status).toBe(200);
    expect(await redis.smembers(keys.campaignsActive)).toEqual([]);
    expect((await api('GET', `/api/incidents/${incident.id}`, tokens.analyst)).json.campaignSeries).toBeDefined();
  }, 300_000);
});
