import type { FastifyInstance } from 'fastify';
import { decodeJson, deadLetter, MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, postKey, validatePost, type RejectReason } from '@tingfeng/contracts';
import type { Producer } from '@tingfeng/kafka';
import type { Counter } from '@tingfeng/metrics';

export interface IngestRouteOptions {
  producer: Producer;
  topic: string;
  dlqTopic: string;
  tokens: string[];
  /** How long to wait for Kafka's acknowledgement before answering 503. */
  sendTimeoutMs: number;
  accepted: Counter<string>;
  rejected: Counter<'reason'>;
}

interface Rejection {
  index: number;
  reason: RejectReason;
  detail: string;
}

/** One item of a request: its decoded value, or why it could not be decoded, and its raw text (or bytes) for the DLQ. */
interface Item {
  raw: string | Buffer;
  value?: unknown;
  error?: { reason: RejectReason; detail: string };
}

/**
 * `POST /ingest`: a JSON array (or one object) or NDJSON. Valid posts go to `posts`, refused ones to `posts.dlq`;
 * the answer counts both and gives each refusal's index and reason. It answers after Kafka has acknowledged.
 */
export function registerIngestRoute(app: FastifyInstance, options: IngestRouteOptions): void {
  // Bodies arrive as bytes: decoding them as strings would turn invalid UTF-8 into U+FFFD silently, and the
  // contract refuses invalid UTF-8.
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, { ndjson: body as Buffer });
  });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, { json: body as Buffer });
  });

  app.post('/ingest', async (req, reply) => {
    if (options.tokens.length > 0) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !options.tokens.includes(token)) return reply.code(401).send({ error: 'a valid bearer token is required' });
    }
    const body = req.body as { ndjson?: Buffer; json?: Buffer } | undefined;
    let items: Item[];
    if (body?.json !== undefined) {
      // One array: its items cannot be told apart in bytes that do not decode, so the whole body is refused. The
      // array itself is one level more than each post may nest.
      const decoded = decodeJson(body.json, { maxBytes: Number.POSITIVE_INFINITY, maxDepth: MAX_JSON_DEPTH + 1 });
      if (!decoded.ok) {
        const detail = decoded.reason === 'invalid_utf8' ? 'the body is not valid UTF-8' : decoded.detail;
        return reply.code(400).send({ error: decoded.reason, detail });
      }
      const values = Array.isArray(decoded.value) ? decoded.value : [decoded.value];
      items = values.map((value) => ({ raw: JSON.stringify(value) ?? 'undefined', value }));
    } else if (body?.ndjson !== undefined) {
      items = splitLines(body.ndjson)
        .map((bytes): Item | undefined => {
          if (bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d)) return undefined;
          const decoded = decodeJson(bytes, { maxBytes: MAX_MESSAGE_BYTES });
          if (decoded.ok) return { raw: decoded.text, value: decoded.value };
          const detail = decoded.reason === 'invalid_utf8' ? 'the line is not valid UTF-8' : decoded.detail;
          return { raw: decoded.reason === 'invalid_utf8' ? bytes : bytes.toString('utf8'), error: { reason: decoded.reason, detail } };
        })
        .filter((item): item is Item => item !== undefined);
    } else {
      return reply.code(415).send({ error: 'send application/json (an array of posts) or application/x-ndjson' });
    }

    const receivedAtMs = Date.now();
    const posts: { key: string; value: string | Buffer }[] = [];
    const letters: { key: null; value: string; headers: { reason: string } }[] = [];
    const rejections: Rejection[] = [];
    items.forEach((item, index) => {
      let error = item.error;
      if (!error && Buffer.byteLength(item.raw, 'utf8') > MAX_MESSAGE_BYTES) {
        error = { reason: 'too_large', detail: `post exceeds ${MAX_MESSAGE_BYTES} bytes` };
      }
      if (!error) {
        const result = validatePost(item.value, { receivedAtMs });
        if (result.ok) {
          posts.push({ key: postKey(result.post), value: item.raw });
          return;
        }
        error = { reason: result.reason, detail: result.detail };
      }
      rejections.push({ index, ...error });
      const letter = deadLetter(item.raw, error.reason, error.detail, receivedAtMs, { http: '/ingest' });
      letters.push({ key: null, value: JSON.stringify(letter), headers: { reason: error.reason } });
    });

    const topicMessages = [];
    if (posts.length > 0) topicMessages.push({ topic: options.topic, messages: posts });
    if (letters.length > 0) topicMessages.push({ topic: options.dlqTopic, messages: letters });
    if (topicMessages.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.sendTimeoutMs);
      });
      try {
        // The producer retries without end (idempotence needs it); the caller gets an answer within the deadline.
        // A caller that retries after a 503 may send a post twice: the analyzer's de-duplication absorbs it.
        const outcome = await Promise.race([options.producer.sendBatch({ topicMessages, acks: -1 }), timedOut]);
        if (outcome === 'timeout') return reply.code(503).send({ error: 'Kafka did not acknowledge in time; retry later' });
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'Kafka refused the batch');
        return reply.code(503).send({ error: `Kafka did not accept the batch (${(err as Error).message}); retry later` });
      } finally {
        clearTimeout(timer);
      }
    }

    options.accepted.inc(posts.length);
    for (const r of rejections) options.rejected.inc({ reason: r.reason });
    return reply.code(posts.length > 0 || items.length === 0 ? 202 : 422).send({
      accepted: posts.length,
      rejected: rejections.length,
      rejections: rejections.slice(0, 100),
    });
  });
}

/** The lines of an NDJSON body as bytes (a trailing `\r` dropped), so each can be checked for UTF-8 on its own. */
function splitLines(body: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let at = body.indexOf(0x0a); at !== -1; at = body.indexOf(0x0a, start)) {
    lines.push(body.subarray(start, at));
    start = at + 1;
  }
  lines.push(body.subarray(start));
  return lines.map((line) => (line.at(-1) === 0x0d ? line.subarray(0, -1) : line));
}
