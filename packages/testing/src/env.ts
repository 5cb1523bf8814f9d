import { KAFKA_SETTINGS, REDIS_SETTINGS } from '@tingfeng/config';
import { parseBrokers } from '@tingfeng/kafka';

/** The Kafka bootstrap servers the tests use: `KAFKA_BROKERS` (comma-separated), default the services' default. */
export function kafkaBrokers(env: NodeJS.ProcessEnv = process.env): string[] {
  return parseBrokers(KAFKA_SETTINGS.KAFKA_BROKERS.parse(env['KAFKA_BROKERS']?.trim() || undefined));
}

/** The Redis the tests use: `REDIS_URL`, default the services' default. */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env['REDIS_URL']?.trim() || REDIS_SETTINGS.REDIS_URL.parse(undefined);
}
