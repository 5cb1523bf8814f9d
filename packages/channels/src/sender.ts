import { DeliveryError } from './errors/delivery-error.js';
import type { ChannelType, HttpRequest } from './types.js';

export interface SendOptions {
  /** Give up on one attempt after this long. */
  timeoutMs?: number;
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
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      redirect: 'error',
    });
  } catch (err) {
    const cause = err as Error & { cause?: { code?: string } };
    const what = cause.name === 'TimeoutError' ? 'timed out' : (cause.cause?.code ?? cause.name);
    throw new DeliveryError(`request failed: ${what}`, true);
  }
  const text = await response.text().catch(() => '');
  const elapsedMs = Date.now() - startedAtMs;
  if (!response.ok) {
    const retriable = response.status >= 500 || response.status === 429 || response.status === 408;
    throw new DeliveryError(`HTTP ${response.status}`, retriable, response.status);
  }
  const code = vendorCode(type, text);
  if (code !== undefined && code !== 0) {
    const permanent = type !== 'webhook' && PERMANENT_VENDOR_CODES[type].has(code);
    throw new DeliveryError(`${type} refused the message: code ${code}`, !permanent, response.status, code);
  }
  return { status: response.status, elapsedMs };
}
