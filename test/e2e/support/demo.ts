import { readFileSync } from 'node:fs';
import type { Alert, EnrichedPost } from '../../../packages/contracts/src/index.js';
import { parsePost } from '../../../packages/contracts/src/index.js';
import { createDetectorEngine, DEFAULT_CONFIG } from '../../../packages/detect/src/index.js';
import { createAnalyzer } from '../../../packages/text/src/index.js';
import { createArchive } from '../../../packages/archive/src/index.js';
import type { IncidentsApp, IncidentsConfig } from '../../../services/incidents/src/index.js';
import { enqueueAlerts, eventually, TEST_TOKENS } from '../../../services/incidents/src/testing/fixtures.js';
import { apiClient, type IncidentsHarness } from './incidents.js';

/** The bundled demo: two days of Kunming chatter with the dying-city episode inside (what `pnpm start` replays). */
export const DEMO_FILE = new URL('../../../infra/demo/dying-city.jsonl', import.meta.url);

/** A monitoring scheme the demo's posts are tagged with, as an admin would set one up for the city's image. */
export const DEMO_SCHEME = { name: '城市形象', rule: '昆明 AND (死去 OR 离开 OR 房价 OR 工资)' };

export interface Demo {
  /** Every valid demo post as the analyzer enriches it (with {@link DEMO_SCHEME}). */
  posts: EnrichedPost[];
  /** What the live detectors raise over them, in event time (the backtest's engine). */
  alerts: Alert[];
  /** The cascade alert about the dying-city post. */
  cascade: Alert;
  /** Event time (ms) of the first post by one of the city's official accounts: the rebuttal. */
  rebuttalMs: number;
  officialAccounts: string[];
}

let cached: Demo | undefined;

/** Analyses and detects over the demo file once per test process (a few seconds: jieba on ~17,000 posts). */
export function loadDemo(): Demo {
  if (cached) return cached;
  const analyzer = createAnalyzer({ schemes: [DEMO_SCHEME] });
  const posts: EnrichedPost[] = [];
  try {
    for (const line of readFileSync(DEMO_FILE, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const parsed = parsePost(line, { receivedAtMs: Date.now() });
      if (parsed.ok) posts.push(analyzer.analyze(parsed.post));
    }
  } finally {
    analyzer.close();
  }
  posts.sort((a, b) => a.createdAtMs - b.createdAtMs);
  const engine = createDetectorEngine();
  const alerts: Alert[] = [];
  for (const p of posts) alerts.push(...engine.process(p));
  alerts.push(...engine.flush());
  const cascade = alerts.find((a) => a.type === 'cascade' && a.rootId?.startsWith('dying-city-'));
  if (!cascade) throw new Error('the demo raised no cascade alert about the dying-city post');
  const officials = new Set(DEFAULT_CONFIG.officialAccounts);
  const rebuttal = posts.find((p) => p.author.name !== undefined && officials.has(p.author.name));
  if (!rebuttal) throw new Error('the demo has no post by an official account');
  cached = { posts, alerts, cascade, rebuttalMs: rebuttal.createdAtMs, officialAccounts: [...DEFAULT_CONFIG.officialAccounts] };
  return cached;
}

/** An incidents app whose archive holds the demo and whose view holds the demo's incidents. */
export interface DemoStack {
  demo: Demo;
  config: IncidentsConfig;
  app: IncidentsApp;
  /** The dying-city incident, with every alert of its key appended. */
  incidentId: string;
}

/**
 * Starts an incidents app on an isolated config of `harness` (`env` overrides), writes the demo's posts to its
 * archive schema and its alerts to its queue, and waits until the dying-city incident holds all of its alerts.
 */
export async function startDemoStack(harness: IncidentsHarness, env: Record<string, string> = {}): Promise<DemoStack> {
  const demo = loadDemo();
  const config = harness.isolated(env);
  const archive = createArchive({ databaseUrl: config.DATABASE_URL, schema: config.ARCHIVE_SCHEMA });
  try {
    await archive.migrate();
    for (let i = 0; i < demo.posts.length; i += 2000) await archive.writePosts(demo.posts.slice(i, i + 2000));
  } finally {
    await archive.close();
  }
  const app = await harness.start(config);
  const api = apiClient(app);
  await enqueueAlerts(config, demo.alerts);
  const alertsOfKey = demo.alerts.filter((a) => (a.incidentKey ?? a.key) === demo.cascade.key).length;
  const incidentId = await eventually(
    async () => {
      const list = await api('GET', '/api/incidents?type=cascade', TEST_TOKENS.analyst);
      const item = list.json?.items?.find((i: { key: string }) => i.key === demo.cascade.key);
      return item?.alertCount === alertsOfKey ? (item.id as string) : undefined;
    },
    60_000,
    'the dying-city incident with all its alerts',
  );
  return { demo, config, app, incidentId };
}
