import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, CampaignSeries, EnrichedPost } from '../../packages/contracts/src/index.js';
import { JOB_NAMES, QUEUES, TOPIC_SPECS, TOPICS } from '../../packages/contracts/src/index.js';
import { DEFAULT_CONFIG, dyingCityScenario, SCENARIO_EPOCH_MS } from '../../packages/detect/src/index.js';
import { enrichedPost } from '../../packages/detect/src/testing.js';
import { Queue, queueSettings, redisKeys } from '../../packages/queue/src/index.js';
import { Redis } from '../../packages/redis/src/index.js';
import { createTopics, producePosts, deleteKeysWithPrefix, deleteTopics, kafkaBrokers, randomName, redisUrl } from '../../packages/testing/src/index.js';
import { createDetectorApp } from '../../services/detector/src/app.js';
import { DetectorServiceConfigSchema } from '../../services/detector/src/config.js';
import { createIncidentsApp } from '../../services/incidents/src/app.js';
import { IncidentsConfigSchema } from '../../services/incidents/src/config.js';
import { eventually } from '../../services/incidents/src/testing/fixtures.js';
import { apiClient } from './support/incidents.js';

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
const dyingCityRoot = scenario.posts.find((p) => p.parentId === undefined && p.ownText.includes('一座正在死去的城市'))!;

type Stoppable = { stop(): Promise<void> };
const started: Stoppable[] = [];
let redis: Redis;
let api: ReturnType<typeof apiClient>;


const produce = (posts: EnrichedPost[]) => producePosts(topic(TOPICS.postsEnriched), posts);

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
    api = apiClient(incidents);
    await produce(before);
  }, 180_000);

  afterAll(async () => {
    for (const app of started.reverse()) await app.stop().catch(() => undefined);
    await deleteKeysWithPrefix(redis, `${run}:`);
    redis.disconnect();
    await deleteTopics([topic(TOPICS.postsEnriched), topic(TOPICS.incidentEvents)]);
  });

  it('counts response and narrative posts per bucket from the rebuttal on, and shows both in the detail', async () => {
    // The episode's chatter has cascades of its own (one opens an info incident): the one wanted is the dying-city post's.
    const incident = await eventually(
      async () => {
        const list = await api('GET', '/api/incidents?type=cascade', tokens.analyst);
        return (list.json?.items as { id: string; key: string }[] | undefined)?.find((i) => i.key === `cascade:${dyingCityRoot.id}`);
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

  it('raises a `response` alert into the same incident when the narrative is still accelerating two hours after the response', async () => {
    // A second conversation, a day after the episode: a 鬼城 cascade the city answers at T, which keeps growing.
    const T = rebuttalOnsetMs + 24 * 3_600_000;
    const alert: Alert = {
      id: `${run}-ghost-1`,
      key: 'cascade:ghost-root',
      type: 'cascade',
      at: new Date(T - 30 * 60_000).toISOString(),
      severity: 'warning',
      title: '「昆明是鬼城」的帖子正在扩散',
      terms: ['鬼城', '滇池', '空城'],
      postIds: ['ghost-root'],
      rootId: 'ghost-root',
    };
    const alerts = new Queue(QUEUES.alerts, queueSettings(redisUrl(), run));
    await alerts.add(JOB_NAMES.alert, alert, { jobId: alert.id });
    await alerts.close();
    const incident = await eventually(
      async () => ((await api('GET', '/api/incidents', tokens.analyst)).json?.items as { id: string; key: string }[] | undefined)?.find((i) => i.key === alert.key),
      30_000,
      'the 鬼城 incident',
    );
    const marked = await api('POST', `/api/incidents/${incident.id}/response`, tokens.oncall, { accounts: ['昆明发布'], startedAt: new Date(T).toISOString() });
    expect(marked.status).toBe(200);
    const keys = redisKeys(`${run}:`);
    await eventually(async () => ((await redis.get(keys.campaignSeries(incident.id))) ? true : undefined), 30_000, 'the detector tracking the campaign');

    // Per 10-minute bucket from the one before T: 6 posts before the response, a dip, then faster and faster from 1 h 30;
    // the bucket ending 2 h after T (12 → 18 → 26) is the first judged. The last bucket (2) only closes it.
    const counts = [6, 5, 5, 4, 4, 4, 4, 4, 5, 8, 12, 18, 26, 2];
    const posts: EnrichedPost[] = [];
    let n = 0;
    counts.forEach((count, k) => {
      for (let i = 0; i < count; i++) {
        const t = T + (k - 1) * BUCKET_MS + Math.floor(((i + 0.5) / count) * BUCKET_MS);
        const words = ['昆明', '鬼城', '空城', '滇池'];
        posts.push(
          enrichedPost({
            id: `${run}-ghost-${++n}`,
            createdAtMs: t,
            author: { id: `ghost-u${n}`, name: `网友鬼${n}`, followers: 100 },
            ownText: words.join(''),
            tokens: words,
            keywords: words,
            // Half negative, then a growing share from 1 h 30: 50 %, 60 %, 70 % in the last three full buckets.
            sentiment: (k >= 9 ? i / count < 0.3 + 0.1 * (k - 8) : i % 2 === 0) ? -0.5 : 0.4,
          }),
        );
      }
    });
    posts.push({ ...posts[0]!, id: `${run}-ghost-reply`, createdAt: new Date(T + 5 * 60_000).toISOString(), createdAtMs: T + 5 * 60_000, author: { id: 'gov0', name: '昆明发布', followers: 200_000 }, sentiment: 0.5 });
    await produce(posts);

    const raised = await eventually(
      async () => {
        const detail = await api('GET', `/api/incidents/${incident.id}`, tokens.analyst);
        return (detail.json?.alerts as Alert[] | undefined)?.find((a) => a.key === `campaign:${incident.id}`);
      },
      60_000,
      'a campaign alert in the incident',
    );
    expect(raised).toMatchObject({ type: 'response', incidentKey: incident.key, severity: 'critical', observed: 26, expected: 6, accounts: ['昆明发布'] });
    expect(raised.title).toMatch(/^回应后舆情仍在升温: 「昆明是鬼城」的帖子正在扩散/);
    expect(raised.window).toEqual({ start: new Date(T + 11 * BUCKET_MS).toISOString(), end: new Date(T + 12 * BUCKET_MS).toISOString() });
    // The curves reach Redis on the tracker's own flush timer, which may trail the alert.
    const detail = await eventually(
      async () => {
        const d = await api('GET', `/api/incidents/${incident.id}`, tokens.analyst);
        const responses = (d.json?.campaignSeries?.response as number[] | undefined)?.reduce((a, b) => a + b, 0) ?? 0;
        return responses > 0 ? d : undefined;
      },
      30_000,
      'the response post in the campaign curves',
    );
    expect(detail.json.alerts.filter((a: Alert) => a.key.startsWith('campaign:'))).toHaveLength(1);
    expect(detail.json.campaignSeries.response.reduce((a: number, b: number) => a + b, 0)).toBe(1);
  }, 180_000);
});
