import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './probes.js';

const KAFKA_SCRIPT = fileURLToPath(new URL('../../../infra/kafka/kafka.sh', import.meta.url));

/** A Kafka broker of a test's own (infra/kafka/kafka.sh on free ports, its own data dir), that the test may stop. */
export interface PrivateKafka {
  /** `127.0.0.1:<port>`, for KAFKA_BROKERS. */
  broker: string;
  port: number;
  /** Starts it again on the same ports and data (topics and offsets survive a stop). */
  start(): void;
  /** Stops it (SIGTERM, SIGKILL after 30 s), keeping its data. */
  stop(): void;
  /** Stops it and removes its data; safe to call twice. */
  destroy(): void;
}

function run(command: 'start' | 'stop', env: NodeJS.ProcessEnv): void {
  const result = spawnSync('bash', [KAFKA_SCRIPT, command], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (result.status !== 0) throw new Error(`kafka.sh ${command} failed (exit ${result.status ?? result.signal})`);
}

/**
 * Starts a single-node broker on two free loopback ports with a temporary data dir, for a test that must stop or
 * restart Kafka: the shared broker on 9092 others' tests use is never touched. The jars come from the shared cache.
 */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tingfeng-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_HEAP_OPTS: process.env['KAFKA_HEAP_OPTS'] ?? '-Xmx384m -Xms128m',
  };
  let destroyed = false;
  run('start', env);
  return {
    broker: `127.0.0.1:${port}`,
    port,
    start: () => run('start', env),
    stop: () => run('stop', env),
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      try {
        run('stop', env);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
