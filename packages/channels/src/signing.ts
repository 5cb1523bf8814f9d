import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of Tingfeng's generic webhook. */
export const SIGNATURE_HEADER = 'x-tingfeng-signature';
export const TIMESTAMP_HEADER = 'x-tingfeng-timestamp';

/**
 * The generic webhook's signature: `sha256=` + hex HMAC-SHA256, keyed with the channel secret, of
 * `${timestampSeconds}.${rawBody}`. Signing the timestamp with the body lets a receiver refuse replays.
 */
export function signWebhookBody(rawBody: string, secret: string, timestampSeconds: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`, 'utf8').digest('hex')}`;
}

export type WebhookVerdict = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks a generic webhook request: the signature matches (constant-time) and the timestamp is within `toleranceSeconds`
 * of `nowMs` (default 300 s), so a captured request cannot be replayed later.
 */
export function verifyWebhookSignature(
  rawBody: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  secret: string,
  nowMs: number,
  toleranceSeconds = 300,
): WebhookVerdict {
  if (!headers.signature || !headers.timestamp) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(headers.timestamp) || !/^sha256=[0-9a-f]{64}$/.test(headers.signature)) return { ok: false, reason: 'malformed' };
  const timestampSeconds = Number(headers.timestamp);
  if (Math.abs(nowMs / 1000 - timestampSeconds) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signWebhookBody(rawBody, secret, timestampSeconds));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/**
 * DingTalk custom robot 加签: base64(HMAC-SHA256(key = secret, message = `${timestampMs}\n${secret}`)), URL-encoded,
 * sent as the `timestamp` and `sign` query parameters (timestamp in milliseconds, within an hour of DingTalk's clock).
 */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64'));
}

/**
 * Feishu custom bot 签名校验: base64(HMAC-SHA256(key = `${timestampSeconds}\n${secret}`, message = empty)), sent in the
 * JSON body as `timestamp` (seconds, a string) and `sign`. Note the key/message order differs from DingTalk's.
 */
export function feishuSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}
