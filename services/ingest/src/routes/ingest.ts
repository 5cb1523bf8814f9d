import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { matchToken } from '@tingfeng/config';
import { decodeJson, deadLetter, MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, postKey, validatePost, type RejectReason } from '@tingfeng/contracts';
import type { Producer } from '@tingfeng/kafka';
import { TIMED_OUT, withTimeout } from '@tingfeng/lifecycle';
import type { Counter } from '@tingfeng/metrics';

export interface IngestRouteOptions {
  producer: Producer;
  topic: string;
  dlqTopic: string;
  /** Bearer tokens accepted; empty with `allowAnonymous` accepts any caller. */
  tokens: string[];
  allowAnonymous: boolean;
  /** Most items in one request; more is answered 413 before anything is written. */
  maxItems: number;
  /** Message bytes per produce request. */
  sendSliceBytes: number;
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
  // contract refuses invalid UTF-8. Only JSON and NDJSON: text/plain (like form encodings) is a type a web page can
  // post cross-site without a preflight, so it is answered 415 with the rest.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl'], { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, { ndjson: body as Buffer });
  });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, { json: body as Buffer });
  });

  // The token is checked on the request line and headers, before a byte of the body is read.
  const authorize = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (options.allowAnonymous) return;
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || matchToken(options.tokens, token) === -1) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token is required' });
    }
  };

  app.post('/ingest', { onRequest: authorize }, async (req, reply) => {
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
      if (values.length > options.maxItems) return tooMany(reply, values.length, options.maxItems);
      items = values.map((value) => ({ raw: JSON.stringify(value) ?? 'undefined', value }));
    } else if (body?.ndjson !== undefined) {
      const lines = splitLines(body.ndjson).filter((bytes) => !bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d));
      if (lines.length > options.maxItems) return tooMany(reply, lines.length, options.maxItems);
      items = lines
        .map((bytes): Item => {
          const decoded = decodeJson(bytes, { maxBytes: MAX_MESSAGE_BYTES });
          if (decoded.ok) return { raw: decoded.text, value: decoded.value };
          const detail = decoded.reason === 'invalid_utf8' ? 'the line is not valid UTF-8' : decoded.detail;
          return { raw: decoded.reason === 'invalid_utf8' ? bytes : bytes.toString('utf8'), error: { reason: decoded.reason, detail } };
        });
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

    // Written in slices of bounded size: one produce request carrying every letter of a request full of bad lines
    // can exceed what the broker takes, and then no retry would ever succeed.
    const slices = [
      ...sliceMessages(posts, options.sendSliceBytes).map((messages) => ({ topic: options.topic, messages })),
      ...sliceMessages(letters, options.sendSliceBytes).map((messages) => ({ topic: options.dlqTopic, messages })),
    ];
    if (slices.length > 0) {
      let abandoned = false;
      const sendAll = async () => {
        for (const slice of slices) {
          if (abandoned) return;
          await options.producer.send({ ...slice, acks: -1 });
        }
      };
      try {
        // The producer retries without end (idempotence needs it); the caller gets an answer within the deadline.
        // A caller that retries after a 503 sends again the posts already written: the analyzer absorbs those
        // duplicates, since it claims each (platform, id) once in Redis before enriching it.
        if ((await withTimeout(sendAll(), options.sendTimeoutMs)) === TIMED_OUT) {
          abandoned = true;
          return reply.code(503).send({ error: 'Kafka did not acknowledge in time; retry later' });
        }
      } catch (err) {
        abandoned = true;
        req.log.warn({ err }, 'Kafka refused a slice of the request');
        return reply.code(503).send({ error: `Kafka did not accept the request (${(err as Error).message}); retry later` });
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

function tooMany(reply: FastifyReply, count: number, maxItems: number) {
  return reply.code(413).send({ error: 'too_many_items', detail: `${count} items; at most ${maxItems} per request` });
}

/** Consecutive runs of messages whose values add up to at most `maxBytes`; a larger message makes a run alone. */
export function sliceMessages<M extends { value: string | Buffer }>(messages: readonly M[], maxBytes: number): M[][] {
  const out: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.value);
    if (current.length > 0 && bytes + size > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
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
