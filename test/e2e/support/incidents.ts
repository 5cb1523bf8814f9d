import { Redis } from '../../../packages/redis/src/index.js';
import { deleteKeysWithPrefix, deleteTopics, dropSchema, postgresAnswers } from '../../../packages/testing/src/index.js';
import { createIncidentsApp, type IncidentsApp, type IncidentsConfig } from '../../../services/incidents/src/index.js';
import { testIncidentsConfig } from '../../../services/incidents/src/testing/fixtures.js';

/**
 * Incidents apps for one test file, each config on its own topic and prefixes. `cleanUp()` (for `afterAll`) undoes
 * everything in reverse order: stops the apps, removes what each config left in Redis and Kafka, and runs whatever
 * else was `defer`red. Every cleanup runs even when an earlier one throws; the failures are thrown together at the end.
 */
export class IncidentsHarness {
  readonly #cleanups: (() => unknown)[] = [];

  /** Runs `cleanup` in `cleanUp()`, before everything registered earlier. */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** A test config (random topic, prefixes, group, archive schema, free port; `env` overrides) whose keys, topic and schema are removed afterwards. */
  isolated(env: Record<string, string> = {}): IncidentsConfig {
    const config = testIncidentsConfig(env);
    this.defer(async () => {
      const redis = new Redis(config.REDIS_URL);
      try {
        await deleteKeysWithPrefix(redis, config.REDIS_PREFIX);
        await deleteKeysWithPrefix(redis, `${config.QUEUE_PREFIX}:`);
      } finally {
        redis.disconnect();
      }
      await deleteTopics([config.INCIDENT_EVENTS_TOPIC]);
      // A test may point an app at a server that is not there, to see it answer 503.
      if (await postgresAnswers(config.DATABASE_URL)) await dropSchema(config.DATABASE_URL, config.ARCHIVE_SCHEMA);
    });
    return config;
  }

  /** Creates and starts an app on `config`; it is stopped in `cleanUp()` (stopping twice is harmless). */
  async start(config: IncidentsConfig): Promise<IncidentsApp> {
    const app = createIncidentsApp(config);
    this.defer(() => app.stop());
    await app.start();
    return app;
  }

  async cleanUp(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} incidents test cleanup(s) failed`);
  }
}

/** What `apiClient` answers: the status and the body, parsed when it is JSON, else the text (undefined when empty). */
export interface ApiAnswer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test answers are inspected freely
}

/** A caller of a started incidents app's HTTP API: bearer `token` and JSON `body` when given. */
export function apiClient(app: Pick<IncidentsApp, 'port'>) {
  const base = `http://127.0.0.1:${app.port}`;
  return async (method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
}
