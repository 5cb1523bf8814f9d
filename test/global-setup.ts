import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
// The root package does not depend on @tingfeng/testing (yet), so it is imported by path.
import {
  databaseUrl,
  ensureChromium,
  ensureDebianCommand,
  ensureStandardTopics,
  freePort,
  kafkaAnswers,
  kafkaBrokers,
  postgresAnswers,
  redisAnswers,
  redisUrl,
  startThrowawayPostgres,
} from '../packages/testing/src/infra.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    redisUrl: string;
    databaseUrl: string;
  }
}

const repoRoot = join(import.meta.dirname, '..');
const kafkaScript = join(repoRoot, 'infra/kafka/kafka.sh');


function runKafkaScript(command: 'start' | 'stop', port: string | undefined): void {
  const env = port === undefined ? process.env : { ...process.env, KAFKA_PORT: port };
  const result = spawnSync('bash', [kafkaScript, command], { stdio: 'inherit', env });
  if (result.status !== 0) throw new Error(`infra/kafka/kafka.sh ${command} failed (exit ${result.status ?? result.signal})`);
}

/** Starts Kafka when nothing answers at KAFKA_BROKERS; returns how to undo that. */
async function ensureKafka(): Promise<() => void> {
  const [broker] = kafkaBrokers();
  if (broker === undefined) throw new Error('KAFKA_BROKERS is empty');
  if (await kafkaAnswers(broker)) return () => {};

  const [host = '', port] = [broker.slice(0, broker.lastIndexOf(':')), broker.slice(broker.lastIndexOf(':') + 1)];
  if (!['127.0.0.1', 'localhost'].includes(host)) {
    throw new Error(`no Kafka broker answers at ${broker}, and it is not local, so it cannot be started here`);
  }
  runKafkaScript('start', port);
  // KAFKA_KEEP_RUNNING=1 leaves a broker this run started up for the next run.
  if (process.env['KAFKA_KEEP_RUNNING'] === '1') return () => {};
  return () => runKafkaScript('stop', port);
}

/** Starts a throwaway redis-server when nothing answers at REDIS_URL; returns how to undo that. */
async function ensureRedis(): Promise<() => void> {
  if (await redisAnswers(redisUrl())) return () => {};

  const port = await freePort();
  const pidFile = join(tmpdir(), `tingfeng-test-redis-${port}.pid`);
  const result = spawnSync(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidFile],
    { stdio: 'inherit' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(`no Redis answers at ${redisUrl()} and redis-server could not be started: ${result.error?.message ?? `exit ${result.status}`}`);
  }
  const url = `redis://127.0.0.1:${port}`;
  const deadlineMs = Date.now() + 10_000;
  while (!(await redisAnswers(url))) {
    if (Date.now() > deadlineMs) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Workers are forked after global setup and inherit this environment.
  process.env['REDIS_URL'] = url;
  return () => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    } catch {
      // already gone
    }
    rmSync(pidFile, { force: true });
  };
}

/**
 * Uses the PostgreSQL at DATABASE_URL when it answers; otherwise starts a throwaway one (packages/testing
 * `startThrowawayPostgres`), once for the whole run, and hands its URL to the test workers. Returns how to undo that.
 */
async function ensurePostgres(): Promise<() => Promise<void> | void> {
  if (await postgresAnswers(databaseUrl())) return () => {};
  console.log(`[global-setup] no PostgreSQL answers at ${databaseUrl()}: starting a throwaway one`);
  const server = await startThrowawayPostgres();
  // Workers are forked after global setup and inherit this environment.
  process.env['DATABASE_URL'] = server.url;
  return () => server.stop();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const undo: Array<() => Promise<void> | void> = [];
  try {
    undo.push(await ensureKafka());
    undo.push(await ensureRedis());
    undo.push(await ensurePostgres());
    await ensureStandardTopics();
    // Tests also produce with kcat (librdkafka), a client that is not ours, and drive Debian's chromium (with a CJK
    // font): installed here once, before any file runs, so two browser test files never run apt-get at once.
    ensureDebianCommand('kcat');
    ensureChromium();
  } catch (error) {
    for (const step of undo.reverse()) await step();
    throw error;
  }
  project.provide('kafkaBrokers', kafkaBrokers().join(','));
  project.provide('redisUrl', redisUrl());
  project.provide('databaseUrl', databaseUrl());

  return async () => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error('[global-setup] teardown step failed:', error);
      }
    }
  };
}
