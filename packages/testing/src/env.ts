/** The Kafka bootstrap servers the tests use: `KAFKA_BROKERS` (comma-separated), default `127.0.0.1:9092`. */
export function kafkaBrokers(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env['KAFKA_BROKERS']?.trim() || '127.0.0.1:9092';
  return raw
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}

/** The Redis the tests use: `REDIS_URL`, default `redis://127.0.0.1:6379`. */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env['REDIS_URL']?.trim() || 'redis://127.0.0.1:6379';
}
