import { randomBytes } from 'node:crypto';

/**
 * A name no other test run uses: `<prefix>-<base36 time>-<random hex>`.
 * Valid as a Kafka topic, a consumer group id and a Redis key prefix.
 */
export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
