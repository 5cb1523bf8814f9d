/**
 * pnpm start [--speed <factor>|max] [--exit]
 *
 * The main job: the whole local stack on the bundled demo scenario. It starts a Kafka broker and Redis when none
 * answers, runs every service as its own process (ingest, analyzer, detector, incidents + dashboard, notifier) with a
 * local webhook receiver standing in for the team's chat bot, and the archiver writing every enriched post to
 * PostgreSQL (DATABASE_URL, or a throwaway server when none answers), replays infra/demo/dying-city.jsonl through Kafka and
 * tells what happens: posts enriched and refused, alerts, incidents, notifications. Each run gets its own topics and
 * key prefixes, so a second run tells the story again. With --exit it stops after the story; otherwise it keeps the
 * dashboard up until Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createArchive } from '@tingfeng/archive';
import { TOPIC_SPECS, TOPICS } from '@tingfeng/contracts';
import { Supervised } from './lib/supervisor.js';
import {
  createTopics,
  databaseUrl,
  freePort,
  kafkaAnswers,
  kafkaBrokers,
  postgresAnswers,
  redisAnswers,
  redisUrl,
  startThrowawayPostgres,
} from '@tingfeng/testing/infra';
import { scrapeSum } from '@tingfeng/metrics';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const demoFile = join(repoRoot, 'infra/demo/dying-city.jsonl');

const { values } = parseArgs({
  options: {
    speed: { type: 'string', default: '3000' },
    exit: { type: 'boolean', default: false },
  },
});

const say = (line: string) => process.stdout.write(`${line}\n`);
const cleanups: (() => void | Promise<void>)[] = [];


async function ensureKafka(): Promise<string> {
  const brokers = kafkaBrokers();
  const [broker] = brokers;
  if (broker && (await kafkaAnswers(broker))) {
    say(`• Kafka answers at ${broker}`);
    return brokers.join(',');
  }
  say('• starting the local Kafka broker (infra/kafka/kafka.sh; the first run fetches it from Maven Central)…');
  const result = spawnSync('bash', [join(repoRoot, 'infra/kafka/kafka.sh'), 'start'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('infra/kafka/kafka.sh start failed');
  cleanups.push(() => {
    spawnSync('bash', [join(repoRoot, 'infra/kafka/kafka.sh'), 'stop'], { stdio: 'ignore' });
  });
  return '127.0.0.1:9092';
}

async function ensureRedis(): Promise<string> {
  const url = redisUrl();
  if (await redisAnswers(url)) {
    say(`• Redis answers at ${url}`);
    return url;
  }
  const port = await freePort();
  say(`• starting redis-server on 127.0.0.1:${port}`);
  const result = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('redis-server could not be started: install Redis 7 or set REDIS_URL');
  cleanups.push(() => {
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  });
  return `redis://127.0.0.1:${port}`;
}

/** DATABASE_URL when it answers; otherwise a throwaway PostgreSQL (packaged binaries) for this run, removed at the end. */
async function ensurePostgres(): Promise<string> {
  const url = databaseUrl();
  if (await postgresAnswers(url)) {
    say(`• PostgreSQL answers at ${url.replace(/:[^:@/]*@/, ':***@')}`);
    return url;
  }
  say('• no PostgreSQL at DATABASE_URL: starting a throwaway one (its data goes when the stack stops)');
  const server = await startThrowawayPostgres();
  cleanups.push(() => server.stop());
  return server.url;
}

/**
 * Runs a service under a {@link Supervised}: restarted whenever it exits (compose's `restart: unless-stopped`), every
 * run's output appended to `<logDir>/<name>.log`, and with `echo` its stdout lines shown on the console.
 */
function launch(name: string, entry: string, env: NodeJS.ProcessEnv, logDir: string, echo = false): Supervised {
  const logPath = join(logDir, `${name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const service = new Supervised({
    name,
    logPath,
    say,
    spawn: () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, entry)], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
      if (echo && child.stdout) createInterface({ input: child.stdout }).on('line', (line) => say(`  📨 ${line.replace(/^\[webhook-receiver\]\s*/, '')}`));
      return child;
    },
  });
  service.start();
  return service;
}

async function waitReady(name: string, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} did not become ready at ${url}`);
}

const procs: Supervised[] = [];
let stopped: Promise<void> | undefined;

/**
 * Stops the services, then what this run started (the broker, Redis, PostgreSQL). One stop, however many callers:
 * a Ctrl-C reaches the replay child too, whose failure ends main() while the signal's stop is under way; both wait
 * for the same stop before exiting, so none exits with the broker still running.
 */
function stopAll(): Promise<void> {
  stopped ??= (async () => {
    say('• stopping the stack…');
    await Promise.all(procs.map((p) => p.stop(20_000)));
    for (const cleanup of cleanups.reverse()) await cleanup();
  })();
  return stopped;
}

/**
 * The API tokens of the run: `API_TOKENS` when it is set (the user's own, never printed), otherwise demo tokens made
 * here and printed. `reader` is the token this script reads the incidents with (any role may read).
 */
function apiAccess(fromEnv: string | undefined): { apiTokens: string; reader: string; made?: { admin: string; oncall: string; analyst: string } } {
  const given = fromEnv?.trim();
  if (given) {
    const reader = given.split(',')[0]?.split(':')[0]?.trim();
    if (!reader) throw new Error('API_TOKENS is set but holds no token (expected token:role[:name],…)');
    return { apiTokens: given, reader };
  }
  const made = { admin: 'demo-admin-token', oncall: 'demo-oncall-token', analyst: 'demo-analyst-token' };
  return { apiTokens: `${made.admin}:admin:管理员,${made.oncall}:oncall:值班员,${made.analyst}:analyst:分析员`, reader: made.admin, made };
}

async function main(): Promise<void> {
  if (!existsSync(demoFile)) throw new Error(`demo file missing: ${demoFile} (run pnpm demo:data)`);
  say('听风 Tingfeng — the local stack on the demo scenario: Kunming, October 2015, "一座正在死去的城市"\n');
  const brokers = await ensureKafka();
  const redis = await ensureRedis();
  const database = await ensurePostgres();

  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const run = `demo-${stamp}`;
  const topic = (name: string) => `${run}.${name}`;
  await createTopics(TOPIC_SPECS.map((s) => ({ name: topic(s.name), partitions: s.partitions, ...(s.configs ? { configs: s.configs } : {}) })));
  const logDir = join(repoRoot, '.tingfeng', run);
  mkdirSync(logDir, { recursive: true });
  // The archive of this run: its own schema, like its own topics and key prefixes.
  const archiveSchema = run.replace(/-/g, '_');
  say(`• run ${run}: topics ${topic('*')}, Redis prefix ${run}:, archive schema ${archiveSchema}, logs in ${logDir}`);

  const access = apiAccess(process.env.API_TOKENS);
  const webhookSecret = 'demo-webhook-secret';
  const ports = { incidents: 3000, ingest: 3100, analyzer: 9464, detector: 9465, notifier: 9466, archiver: 9467, webhook: 3900 };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    KAFKA_BROKERS: brokers,
    REDIS_URL: redis,
    REDIS_PREFIX: `${run}:`,
    QUEUE_PREFIX: run,
    INCIDENT_EVENTS_TOPIC: topic(TOPICS.incidentEvents),
    INCIDENTS_GROUP_ID: `${run}-incidents`,
    INCIDENTS_PORT: String(ports.incidents),
    API_TOKENS: access.apiTokens,
    PUBLIC_URL: `http://127.0.0.1:${ports.incidents}`,
    INGEST_TOPIC: topic(TOPICS.posts),
    INGEST_DLQ_TOPIC: topic(TOPICS.postsDlq),
    INGEST_PORT: String(ports.ingest),
    // The demo's ingest takes posts from anyone on this machine; with INGEST_TOKENS set it requires those instead.
    ...(process.env.INGEST_TOKENS ? {} : { INGEST_ALLOW_ANONYMOUS: 'true' }),
    ANALYZER_INPUT_TOPIC: topic(TOPICS.posts),
    ANALYZER_OUTPUT_TOPIC: topic(TOPICS.postsEnriched),
    ANALYZER_DLQ_TOPIC: topic(TOPICS.postsDlq),
    ANALYZER_GROUP_ID: `${run}-analyzer`,
    ANALYZER_INSTANCE_ID: run,
    ANALYZER_DEDUP_PREFIX: `${run}:seen:`,
    DATABASE_URL: database,
    ARCHIVE_SCHEMA: archiveSchema,
    ARCHIVER_INPUT_TOPIC: topic(TOPICS.postsEnriched),
    ARCHIVER_DLQ_TOPIC: topic(TOPICS.postsDlq),
    ARCHIVER_GROUP_ID: `${run}-archiver`,
    ARCHIVER_INSTANCE_ID: run,
    DETECTOR_INPUT_TOPIC: topic(TOPICS.postsEnriched),
    DETECTOR_GROUP_ID: `${run}-detector`,
    DETECTOR_INSTANCE_ID: run,
    DETECTOR_CHECKPOINT_PREFIX: `${run}:detector:`,
    NOTIFY_DEFAULT_WEBHOOK_URL: `http://127.0.0.1:${ports.webhook}/hook`,
    NOTIFY_DEFAULT_WEBHOOK_SECRET: webhookSecret,
    // The local webhook receiver is on loopback, which the notifier (and the daily reports' announcements) refuse unless listed.
    NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
    // Unacknowledged for two minutes: the duty lead (here the same local receiver) is told.
    ESCALATION_AFTER_MS: '120000',
    ESCALATION_LEVELS: 'default',
    WEBHOOK_RECEIVER_PORT: String(ports.webhook),
    WEBHOOK_SECRET: webhookSecret,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];

  say('• starting the services: webhook receiver, incidents + dashboard, notifier, detector, archiver, analyzer, ingest');
  procs.push(launch('webhook-receiver', 'services/webhook-receiver/src/main.ts', env, logDir, true));
  procs.push(launch('incidents', 'services/incidents/src/main.ts', env, logDir));
  procs.push(launch('notifier', 'services/notifier/src/main.ts', { ...env, NOTIFIER_PORT: String(ports.notifier) }, logDir));
  procs.push(launch('detector', 'services/detector/src/main.ts', { ...env, METRICS_PORT: String(ports.detector) }, logDir));
  procs.push(launch('archiver', 'services/archiver/src/main.ts', { ...env, METRICS_PORT: String(ports.archiver) }, logDir));
  procs.push(launch('analyzer', 'services/analyzer/src/main.ts', { ...env, METRICS_PORT: String(ports.analyzer) }, logDir));
  procs.push(launch('ingest', 'services/ingest/src/main.ts', env, logDir));
  await Promise.all([
    waitReady('incidents', `http://127.0.0.1:${ports.incidents}/readyz`),
    waitReady('notifier', `http://127.0.0.1:${ports.notifier}/readyz`),
    waitReady('detector', `http://127.0.0.1:${ports.detector}/readyz`),
    waitReady('archiver', `http://127.0.0.1:${ports.archiver}/readyz`),
    waitReady('analyzer', `http://127.0.0.1:${ports.analyzer}/readyz`),
    waitReady('ingest', `http://127.0.0.1:${ports.ingest}/readyz`),
  ]);
  say(`• all services ready. Dashboard: http://127.0.0.1:${ports.incidents}/  (${access.made ? `on-call token: ${access.made.oncall}` : 'tokens from API_TOKENS'})\n`);

  const totalLines = readFileSync(demoFile, 'utf8').trimEnd().split('\n').length;
  say(`• replaying ${totalLines} lines of infra/demo/dying-city.jsonl into ${topic(TOPICS.posts)} at ${values.speed}× event time…`);
  const replay = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/replay.ts'), '--input', demoFile, '--topic', topic(TOPICS.posts), '--speed', values.speed, '--brokers', brokers], {
    cwd: repoRoot,
    env: { ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  createInterface({ input: replay.stderr! }).on('line', (line) => {
    if (line.startsWith('replay:')) say(`  ${line}`);
  });
  const replayDone = new Promise<number>((resolve) => replay.once('exit', (code) => resolve(code ?? 1)));

  // Tell the story as it happens: incidents opened, alerts joining them, severity raised, acknowledged.
  interface Summary {
    id: string;
    type: string;
    status: string;
    severity: string;
    title: string;
    alertCount: number;
    lastAlertEventAt?: string;
  }
  const seen = new Map<string, Summary>();
  const headers = { authorization: `Bearer ${access.reader}` };
  const watchIncidents = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${ports.incidents}/api/incidents?limit=100`, { headers });
      if (!res.ok) return;
      const body = (await res.json()) as { items: Summary[] };
      for (const inc of [...body.items].reverse()) {
        const before = seen.get(inc.id);
        seen.set(inc.id, inc);
        if (!before) {
          say(`  🚨 incident opened: [${inc.severity}] ${inc.type} 「${inc.title}」`);
        } else if (before.alertCount !== inc.alertCount || before.severity !== inc.severity || before.status !== inc.status) {
          const what = [
            inc.alertCount !== before.alertCount ? `${inc.alertCount} alerts` : '',
            inc.severity !== before.severity ? `severity ${before.severity} → ${inc.severity}` : '',
            inc.status !== before.status ? inc.status : '',
          ].filter(Boolean);
          say(`  🔗 incident ${inc.id.slice(0, 12)}… (${inc.type}) now ${what.join(', ')}`);
        }
      }
    } catch {
      // the API is busy or restarting: try again on the next tick
    }
  };
  const ticker = setInterval(() => void watchIncidents(), 1500);
  const replayCode = await replayDone;
  if (replayCode !== 0) throw new Error(`replay exited with ${replayCode}`);

  // Wait until the analyzer has accounted for every line and the detector has caught up.
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const done = (await scrapeSum(ports.analyzer, 'tingfeng_posts_in_total')) >= totalLines;
    const lag = await scrapeSum(ports.detector, 'tingfeng_consumer_lag_messages');
    const enrichedSoFar = await scrapeSum(ports.analyzer, 'tingfeng_posts_enriched_total');
    const archivedSoFar = await scrapeSum(ports.archiver, 'tingfeng_archiver_messages_total');
    if (done && lag === 0 && archivedSoFar >= enrichedSoFar) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, 4000));
  await watchIncidents();
  clearInterval(ticker);

  const enriched = await scrapeSum(ports.analyzer, 'tingfeng_posts_enriched_total');
  const rejected = await scrapeSum(ports.analyzer, 'tingfeng_posts_rejected_total');
  const alerts = await scrapeSum(ports.detector, 'tingfeng_alerts_emitted_total');
  // The rows themselves, not a counter: what a search can find. Redeliveries (an offset commit refused while the
  // broker's transaction coordinator loads, a restart) are counted by the archiver as duplicates and change nothing.
  const archive = createArchive({ databaseUrl: database, schema: archiveSchema, subwords: false });
  const archived = await archive.count({ includeSpam: true }).finally(() => archive.close());
  const redelivered = await scrapeSum(ports.archiver, 'tingfeng_archiver_posts_duplicate_total');
  say('\n──────── what happened ────────');
  say(`posts: ${totalLines} lines replayed → ${enriched} enriched, ${rejected} refused to ${topic(TOPICS.postsDlq)} with their reasons`);
  const unarchived = enriched - archived;
  say(
    `archive: ${archived} posts in PostgreSQL (schema ${archiveSchema}), searchable by the API` +
      (unarchived !== 0 ? `; ${unarchived} enriched posts not in it` : ', every enriched post') +
      (redelivered > 0 ? ` (${redelivered} redelivered posts written once)` : ''),
  );
  say(`alerts: ${alerts} emitted by the detector, gathered into ${seen.size} incidents (one per conversation, not one per alert):`);
  for (const inc of seen.values()) say(`  • [${inc.severity}] ${inc.alertCount} alerts, ${inc.status}: ${inc.title}`);
  if (access.made) {
    say(`dashboard: http://127.0.0.1:${ports.incidents}/   demo tokens — on-call: ${access.made.oncall}   analyst: ${access.made.analyst}   admin: ${access.made.admin}`);
    say(`API: curl -H 'authorization: Bearer ${access.made.analyst}' http://127.0.0.1:${ports.incidents}/api/incidents`);
  } else {
    say(`dashboard: http://127.0.0.1:${ports.incidents}/   tokens: those of API_TOKENS`);
    say(`API: curl -H 'authorization: Bearer <a token of API_TOKENS>' http://127.0.0.1:${ports.incidents}/api/incidents`);
  }
  // The episode's day in the organisation's zone: what its 舆情日报 covers (the morning job would build it the day after).
  const rank: Record<string, number> = { critical: 2, warning: 1, info: 0 };
  const worst = [...seen.values()].sort((a, b) => (rank[b.severity] ?? 0) - (rank[a.severity] ?? 0))[0];
  if (worst?.lastAlertEventAt) {
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: process.env.TIME_ZONE ?? 'Asia/Shanghai' }).format(new Date(worst.lastAlertEventAt));
    say(`daily report (舆情日报) of that day: http://127.0.0.1:${ports.incidents}/#/reports/${day}   (PDF: the page's 下载 PDF)`);
  }
  say(`ingest more posts: curl -H 'content-type: application/json' -d @posts.json http://127.0.0.1:${ports.ingest}/ingest`);
  say(`logs: ${logDir}`);

  if (values.exit || process.env.CI === 'true') {
    await stopAll();
    return;
  }
  say('\nThe stack keeps running (unacknowledged incidents escalate after 2 minutes). Press Ctrl-C to stop.');
  await new Promise<never>(() => {
    // Ctrl-C ends the run through the signal handler below.
  });
}

// Every Ctrl-C, not only the first: a second one (impatience, or the same one relayed by a wrapper such as tsx's or
// pnpm's) would otherwise kill this process mid-stop and leave the broker it started running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopped !== undefined) say('• still stopping (the services first, then the broker and what else this run started)…');
    void stopAll().then(() => process.exit(0));
  });
}

main()
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`start: ${(err as Error).message}\n`);
    await stopAll();
    process.exit(1);
  });
