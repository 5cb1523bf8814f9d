import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_SPECS, TOPICS } from '../../packages/contracts/src/index.js';
import { demoPosts } from '../../packages/detect/src/index.js';
import { Redis } from '../../packages/redis/src/index.js';
import { createTopics, producePosts, deleteKeysWithPrefix, deleteTopics, kafkaBrokers, randomName, redisUrl } from '../../packages/testing/src/index.js';
import { createAnalyzerApp } from '../../services/analyzer/src/app.js';
import { AnalyzerConfigSchema } from '../../services/analyzer/src/config.js';
import { createDetectorApp } from '../../services/detector/src/app.js';
import { DetectorServiceConfigSchema } from '../../services/detector/src/config.js';
import { createIncidentsApp } from '../../services/incidents/src/app.js';
import { IncidentsConfigSchema } from '../../services/incidents/src/config.js';
import { createNotifierApp } from '../../services/notifier/src/app.js';
import { NotifierConfigSchema } from '../../services/notifier/src/config.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../services/webhook-receiver/src/receiver.js';
import { eventually } from '../../services/incidents/src/testing/fixtures.js';
import { apiClient } from './support/incidents.js';

/**
 * The whole system through real Kafka, Redis and HTTP: the dying-city episode goes in as raw posts; the analyzer,
 * the detector, the incidents service and the notifier run as they do in production (in one process here, each on
 * its own topics and prefixes); a local webhook receiver stands in for the team's chat bot.
 */

const run = randomName('e2e');
const topic = (name: string) => `${run}.${name}`;
const tokens = { oncall: 'e2e-oncall-token', analyst: 'e2e-analyst-token', admin: 'e2e-admin-token-01' };
const secret = 'e2e-webhook-secret';
const ESCALATION_AFTER_MS = 4000;

type Stoppable = { stop(): Promise<void> };
const started: Stoppable[] = [];
let receiver: WebhookReceiver;
let api: ReturnType<typeof apiClient>;


describe('the dying-city episode, end to end', () => {
  beforeAll(async () => {
    await createTopics(TOPIC_SPECS.map((s) => ({ name: topic(s.name), partitions: s.partitions, ...(s.configs ? { configs: s.configs } : {}) })));
    receiver = await startWebhookReceiver({ port: 0, secret, print: () => {} });
    const shared = { KAFKA_BROKERS: kafkaBrokers().join(','), REDIS_URL: redisUrl(), REDIS_PREFIX: `${run}:`, QUEUE_PREFIX: run, INCIDENT_EVENTS_TOPIC: topic(TOPICS.incidentEvents) };

    const incidents = createIncidentsApp(
      IncidentsConfigSchema.parse({
        ...shared,
        INCIDENTS_GROUP_ID: `${run}-incidents`,
        INCIDENTS_PORT: '0',
        API_TOKENS: `${tokens.oncall}:oncall:值班员,${tokens.analyst}:analyst:分析员,${tokens.admin}:admin`,
      }),
    );
    const notifier = createNotifierApp(
      NotifierConfigSchema.parse({
        ...shared,
        NOTIFIER_PORT: '0',
        NOTIFY_DEFAULT_WEBHOOK_URL: `${receiver.url}/hook`,
        NOTIFY_DEFAULT_WEBHOOK_SECRET: secret,
        // The local receiver is on loopback: listed, or the notifier would refuse it.
        NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
        ESCALATION_AFTER_MS: String(ESCALATION_AFTER_MS),
        ESCALATION_LEVELS: 'default',
      }),
    );
    const detector = createDetectorApp(
      DetectorServiceConfigSchema.parse({
        ...shared,
        DETECTOR_INPUT_TOPIC: topic(TOPICS.postsEnriched),
        DETECTOR_GROUP_ID: `${run}-detector`,
        DETECTOR_INSTANCE_ID: 'e2e',
        DETECTOR_CHECKPOINT_PREFIX: `${run}:detector:`,
        DETECTOR_IDLE_PARTITION_MS: '2000',
        METRICS_PORT: '0',
      }),
    );
    const analyzer = createAnalyzerApp(
      AnalyzerConfigSchema.parse({
        ...shared,
        ANALYZER_INPUT_TOPIC: topic(TOPICS.posts),
        ANALYZER_OUTPUT_TOPIC: topic(TOPICS.postsEnriched),
        ANALYZER_DLQ_TOPIC: topic(TOPICS.postsDlq),
        ANALYZER_GROUP_ID: `${run}-analyzer`,
        ANALYZER_INSTANCE_ID: run,
        ANALYZER_DEDUP_PREFIX: `${run}:seen:`,
        ANALYZER_WATCH_DICTIONARY: 'false',
        METRICS_PORT: '0',
      }),
    );
    for (const app of [incidents, notifier, detector, analyzer]) {
      started.push(app);
      await app.start();
    }
    api = apiClient(incidents);

    await producePosts(topic(TOPICS.posts), demoPosts());
  }, 180_000);

  afterAll(async () => {
    for (const app of started.reverse()) await app.stop().catch(() => undefined);
    await receiver?.close();
    const redis = new Redis(redisUrl());
    await deleteKeysWithPrefix(redis, `${run}:`);
    redis.disconnect();
    await deleteTopics(TOPIC_SPECS.map((s) => topic(s.name)));
  });

  it('opens one incident for the post, the stories bursting from its words and the official response; notifies, acks, resolves', async () => {
    // The cascade, the 死去 story and the rebuttal all land in the incident the cascade opened.
    const incident = await eventually(
      async () => {
        const list = await api('GET', '/api/incidents?type=cascade', tokens.analyst);
        const item = list.json?.items?.[0];
        if (!item) return undefined;
        const detail = await api('GET', `/api/incidents/${item.id}`, tokens.analyst);
        const types = new Set<string>((detail.json?.alerts ?? []).map((a: { type: string }) => a.type));
        return types.has('cascade') && types.has('story') && types.has('response') ? detail.json : undefined;
      },
      150_000,
      'the dying-city incident with cascade, story and response alerts',
    );
    expect(incident.key).toMatch(/^cascade:/);
    expect(incident.alerts.some((a: { terms: string[] }) => a.terms.includes('死去'))).toBe(true);
    const all = await api('GET', '/api/incidents', tokens.analyst);
    const cascadeIncidents = all.json.items.filter((i: { key: string }) => i.key === incident.key);
    expect(cascadeIncidents).toHaveLength(1);

    // A signed notification about it reached the team's webhook.
    const notice = await eventually(async () => receiver.received.find((m) => JSON.stringify(m.body).includes(incident.id)), 60_000, 'a notification');
    expect(notice.verified).toBe(true);
    expect(notice.title).toMatch(/舆情/);

    // An analyst may read but not acknowledge; on-call acknowledges, so escalation does not fire.
    expect((await api('POST', `/api/incidents/${incident.id}/ack`, tokens.analyst)).status).toBe(403);
    const acked = await api('POST', `/api/incidents/${incident.id}/ack`, tokens.oncall);
    expect(acked.status).toBe(200);
    expect(acked.json.status).toBe('acknowledged');
    expect(acked.json.acknowledgedBy).toBe('值班员');
    await new Promise((r) => setTimeout(r, ESCALATION_AFTER_MS * 2));
    const afterWait = await api('GET', `/api/incidents/${incident.id}`, tokens.analyst);
    expect(afterWait.json.timeline.some((e: { kind: string }) => e.kind === 'escalated')).toBe(false);

    const resolved = await api('POST', `/api/incidents/${incident.id}/resolve`, tokens.oncall);
    expect(resolved.status).toBe(200);
    expect(resolved.json.status).toBe('resolved');
  }, 240_000);

  it('escalates an incident nobody acknowledges', async () => {
    const list = await api('GET', '/api/incidents?status=triggered', tokens.analyst);
    const open = list.json.items[0];
    expect(open).toBeDefined();
    const escalated = await eventually(
      async () => {
        const detail = await api('GET', `/api/incidents/${open.id}`, tokens.analyst);
        return detail.json.timeline.some((e: { kind: string }) => e.kind === 'escalated') ? detail.json : undefined;
      },
      60_000,
      'an escalation',
    );
    expect(escalated.status).toBe('triggered');
  }, 90_000);
});
