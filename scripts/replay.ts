/**
 * pnpm replay --input <posts.jsonl> [--speed <factor>|max] [--topic posts] [--brokers host:port]
 *
 * Produces a file's lines, unchanged, into the posts topic, keeping the gaps between event times scaled by the speed.
 * Malformed lines are sent as they are: the analyzer must account for them. Lines out of event-time order are sent
 * when reached, without waiting: the replay clock is the latest event time seen so far.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { KAFKA_SETTINGS } from '@tingfeng/config';
import { TOPICS, validatePost } from '@tingfeng/contracts';
import { createKafka, createProducer, prepareTopics, parseBrokers } from '@tingfeng/kafka';
import { createLogger } from '@tingfeng/logger';
import { readJsonlLines } from './lib/jsonl.js';

const { values } = parseArgs({
  options: {
    input: { type: 'string' },
    speed: { type: 'string', default: '1' },
    topic: { type: 'string', default: TOPICS.posts },
    brokers: { type: 'string', default: KAFKA_SETTINGS.KAFKA_BROKERS.parse(process.env.KAFKA_BROKERS || undefined) },
  },
});

function fail(message: string): never {
  process.stderr.write(`replay: ${message}\n`);
  process.exit(2);
}

if (!values.input) fail('--input <posts.jsonl> is required');
if (values.input !== '-' && !existsSync(values.input)) fail(`input file not found: ${values.input}`);
const speed = values.speed === 'max' ? Number.POSITIVE_INFINITY : Number(values.speed);
if (!(speed > 0)) fail(`--speed must be a positive number or "max", got ${values.speed}`);

const logger = createLogger('replay');
const kafka = createKafka({ brokers: parseBrokers(values.brokers), clientId: 'replay' }, logger);
await prepareTopics(kafka);
const producer = createProducer(kafka);
await producer.connect();

const maxBatch = 500;
let batch: { key: string | null; value: string }[] = [];
let sent = 0;
let clockEventMs: number | undefined;
const startedWallMs = Date.now();
let lastProgressWallMs = startedWallMs;

async function flush(): Promise<void> {
  if (batch.length === 0) return;
  await producer.send({ topic: values.topic, messages: batch, acks: -1 });
  sent += batch.length;
  batch = [];
  const nowWallMs = Date.now();
  if (nowWallMs - lastProgressWallMs >= 2000) {
    lastProgressWallMs = nowWallMs;
    const rate = Math.round(sent / ((nowWallMs - startedWallMs) / 1000));
    const at = clockEventMs === undefined ? '-' : new Date(clockEventMs).toISOString();
    process.stderr.write(`replay: ${sent} sent, event time ${at}, ${rate} msg/s\n`);
  }
}

for await (const { line } of readJsonlLines(values.input)) {
  let key: string | null = null;
  let eventMs = Number.NaN;
  try {
    const checked = validatePost(JSON.parse(line), { receivedAtMs: Date.now() });
    // Only a valid post moves the replay clock: a bad createdAt (year 2999, say) must not fast-forward the rest.
    if (checked.ok) {
      key = checked.post.rootId ?? checked.post.id;
      eventMs = checked.post.createdAtMs;
    }
  } catch {
    // Not JSON: sent as it is, for the analyzer to dead-letter.
  }
  if (Number.isFinite(speed) && Number.isFinite(eventMs)) {
    if (clockEventMs !== undefined && eventMs > clockEventMs) {
      await flush();
      await new Promise((r) => setTimeout(r, (eventMs - clockEventMs!) / speed));
    }
  }
  if (Number.isFinite(eventMs)) clockEventMs = Math.max(clockEventMs ?? eventMs, eventMs);
  batch.push({ key, value: line });
  if (batch.length >= maxBatch) await flush();
}
await flush();
await producer.disconnect();
const seconds = (Date.now() - startedWallMs) / 1000;
process.stderr.write(`replay: done, ${sent} messages to ${values.topic} in ${seconds.toFixed(1)} s\n`);
