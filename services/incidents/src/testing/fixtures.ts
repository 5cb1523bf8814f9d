import { randomBytes } from 'node:crypto';
import type { Alert } from '@tingfeng/contracts';
import { QUEUES } from '@tingfeng/contracts';
import { Queue, queueSettings } from '@tingfeng/queue';
import { JOB_NAMES, type AlertJobData } from '@tingfeng/contracts';
import { databaseUrl, kafkaBrokers, randomSchemaName, redisUrl } from '@tingfeng/testing';
import { IncidentsConfigSchema, type IncidentsConfig } from '../config.js';

/** Tokens the tests use: one per role, with names so the audit trail is readable. */
export const TEST_TOKENS = {
  analyst: 'analyst-token-0001',
  oncall: 'oncall-token-00001',
  admin: 'admin-token-000001',
} as const;

/**
 * Settings for one test: a random topic, Redis prefix, queue prefix, group and archive schema, a free port, the test
 * tokens. Nothing it writes is outside those names, so tests run in parallel and clean up only what is theirs.
 */
export function testIncidentsConfig(env: Record<string, string> = {}): IncidentsConfig {
  const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return IncidentsConfigSchema.parse({
    KAFKA_BROKERS: kafkaBrokers().join(','),
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: `test-inc-${id}:`,
    QUEUE_PREFIX: `test-q-${id}`,
    INCIDENT_EVENTS_TOPIC: `test-incident-events-${id}`,
    INCIDENTS_GROUP_ID: `test-incidents-${id}`,
    INCIDENTS_PORT: '0',
    DATABASE_URL: databaseUrl(),
    ARCHIVE_SCHEMA: randomSchemaName('t_inc'),
    API_TOKENS: `${TEST_TOKENS.analyst}:analyst:分析员小李,${TEST_TOKENS.oncall}:oncall:值班员老王,${TEST_TOKENS.admin}:admin`,
    ...env,
  });
}

/** An alert about the seed's "dying city" cascade; fields may be overridden. */
export function dyingCityAlert(id: string, severity: Alert['severity'], extra: Partial<Alert> & Record<string, unknown> = {}): Alert {
  return {
    id,
    key: 'cascade:3906000000000001',
    type: 'cascade',
    at: '2015-10-20T02:00:00.000Z',
    severity,
    title: '@昆明网友 的帖子正在扩散:「昆明是一座正在死去的城市」',
    terms: ['昆明', '死去', '城市'],
    postIds: ['3906000000000001', '3906000000000002'],
    rootId: '3906000000000001',
    observed: 12,
    expected: 1.5,
    score: 6.2,
    window: { start: '2015-10-20T01:40:00.000Z', end: '2015-10-20T02:00:00.000Z' },
    samples: [
      { id: '3906000000000001', text: '昆明是一座正在死去的城市，年轻人都走了。', author: '昆明网友' },
      { id: '3906000000000002', text: '转发微博 //@昆明网友: 昆明是一座正在死去的城市', author: '滇池边' },
    ],
    curve: { bucketMs: 300_000, start: '2015-10-20T01:40:00.000Z', counts: [1, 2, 5, 12] },
    ...extra,
  } as Alert;
}

/** Puts alerts on the `alerts` queue the way the detector does: job `alert`, jobId = alert.id, retried on failure. */
export async function enqueueAlerts(config: IncidentsConfig, alerts: readonly Alert[]): Promise<void> {
  const queue = new Queue<AlertJobData>(QUEUES.alerts, queueSettings(config.REDIS_URL, config.QUEUE_PREFIX));
  try {
    for (const alert of alerts) {
      await queue.add(JOB_NAMES.alert, alert, { jobId: alert.id, attempts: 5, backoff: { type: 'exponential', delay: 500 } });
    }
  } finally {
    await queue.close();
  }
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs` with the last problem. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
