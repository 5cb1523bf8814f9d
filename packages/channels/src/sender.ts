import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkAddress, checkUrl, DestinationRefusedError, EMPTY_ALLOW_LIST, guardedLookup, hostOf, type AllowList } from './destination.js';
import { DeliveryError } from './errors/delivery-error.js';
import type { ChannelType, HttpRequest } from './types.js';

/** How much of an answer is read: the bots answer `{errcode, errmsg}`; a receiver that sends more is cut off. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface SendOptions {
  /** Give up on one attempt after this long. */
  timeoutMs?: number;
  /** Destinations that may be reached although not public, and stand-ins for the vendors' hosts; default none. */
  allowList?: AllowList;
  /** Bytes of the answer read at most; the rest is not waited for. Default {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
}

export interface SendResult {
  status: number;
  /** How long the attempt took. */
  elapsedMs: number;
}

// Vendor codes that no retry will fix: bad key or token, signature/keyword/IP refusals, malformed requests.
const PERMANENT_VENDOR_CODES: Record<Exclude<ChannelType, 'webhook'>, ReadonlySet<number>> = {
  // 93000 invalid webhook url; 40008 invalid message type; 44004 empty text; 40058 invalid parameter.
  wecom: new Set([93000, 40008, 44004, 40058]),
  // 300001 invalid token; 310000 sign/keyword/IP check failed; 400102 robot stopped.
  dingtalk: new Set([300001, 310000, 400102]),
  // 9499 bad request; 19001 param invalid; 19021 sign match fail; 19022 IP not allowed; 19024 keywords not found.
  feishu: new Set([9499, 19001, 19021, 19022, 19024]),
};

/** The vendor's error code in an HTTP 200 answer (0 is success), or undefined when the body says nothing. */
function vendorCode(type: ChannelType, body: string): number | undefined {
  if (type === 'webhook') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  // WeCom and DingTalk answer {errcode, errmsg}; Feishu {code, msg} (older hooks {StatusCode, StatusMessage}).
  const code = type === 'feishu' ? (record.code ?? record.StatusCode) : record.errcode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Posts one built request. Resolves when the receiver accepted it (2xx and, for the bots, a zero error code);
 * otherwise throws {@link DeliveryError} saying whether a retry may help.
 */
export async function sendRequest(type: ChannelType, request: HttpRequest, options: SendOptions = {}): Promise<SendResult> {
  const startedAtMs = Date.now();
  const allow = options.allowList ?? EMPTY_ALLOW_LIST;
  const refusal = checkUrl(type, request.url, allow);
  if (refusal) throw new DeliveryError(`destination refused: ${refusal}`, false);
  let answer: { status: number; text: string };
  try {
    answer = await post(request, allow, options.timeoutMs ?? 10_000, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  } catch (err) {
    if (err instanceof DestinationRefusedError) throw new DeliveryError(`destination refused: ${err.message}`, false);
    const cause = err as Error & { code?: string };
    const what = cause.name === 'TimeoutError' || cause.name === 'AbortError' ? 'timed out' : (cause.code ?? cause.name);
    throw new DeliveryError(`request failed: ${what}`, true);
  }
  const elapsedMs = Date.now() - startedAtMs;
  const { status, text } = answer;
  if (status >= 300 && status < 400) throw new DeliveryError(`HTTP ${status}: redirects are not followed`, false, status);
  if (status < 200 || status >= 300) {
    const retriable = status >= 500 || status === 429 || status === 408;
    throw new DeliveryError(`HTTP ${status}`, retriable, status);
  }
  const code = vendorCode(type, text);
  if (code !== undefined && code !== 0) {
    const permanent = type !== 'webhook' && PERMANENT_VENDOR_CODES[type].has(code);
    throw new DeliveryError(`${type} refused the message: code ${code}`, !permanent, status, code);
  }
  return { status, elapsedMs };
}

/**
 * One POST with node:http(s). The host's addresses are checked when resolved (`guardedLookup`), an IP literal before
 * connecting, and the address the socket actually connected to once more before a byte of the request is written.
 * No connection is reused and no redirect followed; at most `maxResponseBytes` of the answer are read.
 */
function post(request: HttpRequest, allow: AllowList, timeoutMs: number, maxResponseBytes: number): Promise<{ status: number; text: string }> {
  const url = new URL(request.url);
  const host = hostOf(url);
  if (isIP(host) !== 0) {
    const refusal = checkAddress(host, host, allow);
    if (refusal) return Promise.reject(new DestinationRefusedError(refusal));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(request.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(body.byteLength) },
      agent: false,
      lookup: guardedLookup(allow) as never,
      signal: AbortSignal.timeout(timeoutMs),
    });
    req.once('error', reject);
    req.once('socket', (socket) => {
      const proceed = () => {
        const refusal = checkAddress(host, socket.remoteAddress ?? '', allow);
        if (refusal) return req.destroy(new DestinationRefusedError(refusal));
        req.end(body);
      };
      if (socket.connecting) socket.once('connect', proceed);
      else proceed();
    });
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const done = () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - bytes;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        bytes += chunk.byteLength;
        if (bytes >= maxResponseBytes) {
          // Enough to read a vendor's error code: the rest of a large answer is not waited for.
          res.destroy();
          done();
        }
      });
      res.once('end', done);
      res.once('error', (err) => (bytes >= maxResponseBytes ? done() : reject(err)));
    });
  });
}
