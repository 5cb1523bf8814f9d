import type { IncomingMessage, ServerResponse } from 'node:http';
import { dingtalkSign, feishuSign, verifyWebhookSignature, type ChannelType } from '@tingfeng/channels';
import { matchToken } from '@tingfeng/config';
import { Counter, createRegistry, startOpsServer } from '@tingfeng/metrics';

/** One message the receiver accepted. */
export interface ReceivedMessage {
  /** Which kind of endpoint it came to, judged by the path (the receiver mimics each vendor's). */
  channel: ChannelType;
  path: string;
  /** The one-line title (Chinese) the message leads with. */
  title: string;
  /** The parsed JSON body. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** Whether a signature was checked (false when the receiver has no secret, or for WeCom, which has no signing). */
  verified: boolean;
  receivedAtMs: number;
}

export interface WebhookReceiverOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Checks Tingfeng's, DingTalk's and Feishu's signatures with this secret; without one, nothing is checked. */
  secret?: string;
  /** Answer 500 to the first n requests (tests and demos of retries). */
  failFirst?: number;
  /** Where the one-line summaries go; default stdout. */
  print?: (line: string) => void;
}

export interface WebhookReceiver {
  port: number;
  /** `http://host:port`. */
  url: string;
  /** Accepted messages, oldest first. */
  received: ReceivedMessage[];
  /** Every request, including those answered 500 or refused. */
  readonly attempts: number;
  /** Requests refused for a bad or missing signature. */
  readonly refused: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(value));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A vendor signature compared in constant time (the shared token comparison: hashed to one length first). */
function sameSignature(expected: string, given: string): boolean {
  return matchToken([expected], given) === 0;
}

/** The title a message leads with, whatever the vendor format. */
function titleOf(channel: ChannelType, body: Record<string, unknown>): string {
  const get = (...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), body);
  if (channel === 'webhook') return String(get('title') ?? '');
  if (channel === 'dingtalk') return String(get('markdown', 'title') ?? get('text', 'content') ?? '');
  if (channel === 'feishu') return String(get('card', 'header', 'title', 'content') ?? get('content', 'text') ?? '');
  const content = String(get('markdown', 'content') ?? get('text', 'content') ?? '');
  return content.split('\n')[0]?.replace(/^#+\s*/, '') ?? '';
}

/** A one-line, human-readable summary of an accepted message. */
function summaryLine(message: ReceivedMessage): string {
  const time = new Date(message.receivedAtMs).toISOString();
  const body = message.body as Record<string, unknown>;
  const parts = [`[webhook-receiver] ${time} ${message.channel}${message.verified ? ' ✓签名' : ''} ${message.title}`];
  if (message.channel === 'webhook' && Array.isArray(body.items)) {
    const first = body.items[0] as { incident?: { terms?: string[] }; link?: string } | undefined;
    if (body.items.length > 1) parts.push(`${body.items.length} 条`);
    if (first?.incident?.terms?.length) parts.push(`关键词 ${first.incident.terms.join('、')}`);
    if (first?.link) parts.push(first.link);
  }
  return parts.join(' | ');
}

/**
 * A local stand-in for the places notifications go: Tingfeng's generic webhook on any path, and the WeCom
 * (`/cgi-bin/webhook/send`), DingTalk (`/robot/send`) and Feishu (`/open-apis/bot/v2/hook/<token>`) bot endpoints,
 * answering as each vendor does. Verifies signatures, prints one line per message, keeps what it accepted.
 * It runs on the services' shared ops server: `GET /healthz`, `GET /readyz` and `GET /metrics` are answered there,
 * before anything is counted, so probes and scrapes never use up `failFirst` or show as attempts.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const received: ReceivedMessage[] = [];
  let attempts = 0;
  let refused = 0;
  let failuresLeft = options.failFirst ?? 0;
  const secret = options.secret;
  const registry = createRegistry('webhook-receiver');
  const requests = new Counter({
    name: 'tingfeng_webhook_receiver_requests_total',
    help: 'Requests other than probes and scrapes, by outcome (accepted, refused: bad signature, failed_on_purpose: WEBHOOK_FAIL_FIRST, malformed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const refuse = () => {
    refused += 1;
    requests.inc({ outcome: 'refused' });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      attempts += 1;
      if (req.method !== 'POST') {
        requests.inc({ outcome: 'malformed' });
        return json(res, 405, { error: 'POST only' });
      }
      let raw: string;
      try {
        raw = await readBody(req);
      } catch {
        requests.inc({ outcome: 'malformed' });
        return json(res, 413, { error: 'body too large' });
      }
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        requests.inc({ outcome: 'failed_on_purpose' });
        return json(res, 500, { error: 'failing on purpose (WEBHOOK_FAIL_FIRST)' });
      }
      const url = new URL(req.url ?? '/', 'http://receiver.local');
      let body: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch {
        requests.inc({ outcome: 'malformed' });
        return json(res, 400, { error: 'body is not a JSON object' });
      }
      const nowMs = Date.now();
      let channel: ChannelType;
      let verified = false;
      if (url.pathname === '/cgi-bin/webhook/send') {
        channel = 'wecom';
        if (!url.searchParams.get('key')) {
          requests.inc({ outcome: 'malformed' });
          return json(res, 200, { errcode: 93000, errmsg: 'invalid webhook url' });
        }
      } else if (url.pathname === '/robot/send') {
        channel = 'dingtalk';
        if (secret) {
          const ts = Number(url.searchParams.get('timestamp'));
          const sign = url.searchParams.get('sign') ?? '';
          const fresh = Math.abs(nowMs - ts) <= 3600_000;
          // searchParams decodes the sign; dingtalkSign returns it URL-encoded, as it travels.
          if (!fresh || !sameSignature(decodeURIComponent(dingtalkSign(ts, secret)), sign)) {
            refuse();
            return json(res, 200, { errcode: 310000, errmsg: 'sign not match' });
          }
          verified = true;
        }
      } else if (url.pathname.startsWith('/open-apis/bot/v2/hook/')) {
        channel = 'feishu';
        if (secret) {
          const ts = Number(body.timestamp);
          const fresh = Math.abs(nowMs / 1000 - ts) <= 3600;
          if (!fresh || typeof body.sign !== 'string' || !sameSignature(feishuSign(ts, secret), body.sign)) {
            refuse();
            return json(res, 200, { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' });
          }
          verified = true;
        }
      } else {
        channel = 'webhook';
        if (secret) {
          const verdict = verifyWebhookSignature(raw, { signature: header(req, 'x-tingfeng-signature'), timestamp: header(req, 'x-tingfeng-timestamp') }, secret, nowMs);
          if (!verdict.ok) {
            refuse();
            print(`[webhook-receiver] refused a request: signature ${verdict.reason}`);
            return json(res, 401, { error: `signature ${verdict.reason}` });
          }
          verified = true;
        }
      }
      const message: ReceivedMessage = { channel, path: url.pathname, title: titleOf(channel, body), body, headers: req.headers, verified, receivedAtMs: nowMs };
      received.push(message);
      requests.inc({ outcome: 'accepted' });
      print(summaryLine(message));
      if (channel === 'feishu') return json(res, 200, { code: 0, msg: 'success', data: {} });
      if (channel === 'webhook') return json(res, 200, { ok: true });
      return json(res, 200, { errcode: 0, errmsg: 'ok' });
    })().catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'receiver error' });
    });
  };

  const host = options.host ?? '127.0.0.1';
  // It depends on nothing, so listening is being ready.
  const ops = await startOpsServer({ port: options.port ?? 0, host, registry, isReady: () => true, fallback: handle });
  const port = ops.port;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    received,
    get attempts() {
      return attempts;
    },
    get refused() {
      return refused;
    },
    close: () =>
      (closed ??= (async () => {
        const stopped = ops.close();
        // A test closes it to see a refused connection: requests still open are cut, not waited for.
        ops.server.closeAllConnections();
        await stopped;
      })()),
  };
}
