import { describe, expect, it } from 'vitest';
import { dingtalkSign, feishuSign, signWebhookBody, verifyWebhookSignature } from './signing.js';

// Expected values were computed independently with Python's hmac/base64/urllib, following each vendor's documented
// algorithm; the DingTalk one also matches the known answer in the `dingding` Rust crate's tests.
describe('signing known answers', () => {
  it('DingTalk: url-encoded base64 HMAC-SHA256(secret, "timestamp\\nsecret")', () => {
    expect(dingtalkSign(1700000000000, 'secret')).toBe('OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D');
  });
  it('Feishu: base64 HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message', () => {
    expect(feishuSign(1599360473, 'SECabc')).toBe('KjJCRpeZcpDq6nFA4wlSAm5ZsE3Y8HuB1O1Sgv2Y9xA=');
  });
  it('generic webhook: sha256=hex HMAC-SHA256(secret, "timestamp.body")', () => {
    expect(signWebhookBody('{"a":"听风"}', 'whsec', 1700000000)).toBe('sha256=b7a4d213f5a1c5b6ff175e6f85b9c438e72316db972eef6043b9093eb24b196b');
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"title":"昆明"}';
  const nowMs = 1_700_000_000_000;
  const ts = 1_700_000_000;
  const headers = (signature: string | undefined, timestamp: string | undefined = String(ts)) => ({ signature, timestamp });

  it('accepts a fresh, matching signature', () => {
    expect(verifyWebhookSignature(body, headers(signWebhookBody(body, 's', ts)), 's', nowMs)).toEqual({ ok: true });
  });
  it('refuses a different secret, a changed body and a missing header', () => {
    expect(verifyWebhookSignature(body, headers(signWebhookBody(body, 'other', ts)), 's', nowMs)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(`${body} `, headers(signWebhookBody(body, 's', ts)), 's', nowMs)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(body, headers(undefined), 's', nowMs)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyWebhookSignature(body, headers('md5=abc'), 's', nowMs)).toEqual({ ok: false, reason: 'malformed' });
  });
  it('refuses a replay: the timestamp is signed, so it cannot be refreshed', () => {
    const old = ts - 3600;
    expect(verifyWebhookSignature(body, headers(signWebhookBody(body, 's', old), String(old)), 's', nowMs)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature(body, headers(signWebhookBody(body, 's', old), String(ts)), 's', nowMs)).toEqual({ ok: false, reason: 'mismatch' });
  });
});
