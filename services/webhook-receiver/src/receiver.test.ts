import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest, DeliveryError, parseAllowList, sendRequest, type ChannelTarget, type OutgoingMessage } from '@tingfeng/channels';
import { sampleItem } from '@tingfeng/channels/testing';
import { startWebhookReceiver, type WebhookReceiver } from './receiver.js';

const message: OutgoingMessage = { kind: 'single', item: sampleItem() };
const lines: string[] = [];
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  lines.length = 0;
});

async function send(channel: ChannelTarget) {
  const request = buildRequest(channel, message, { publicUrl: 'http://127.0.0.1:3000', nowMs: Date.now(), deliveryId: 'd1' });
  // The receiver listens on loopback, which no channel reaches unless it is allow-listed.
  return sendRequest(channel.type, request, { timeoutMs: 5_000, allowList: parseAllowList(['127.0.0.1']) });
}

async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw err;
  }
  throw new Error('expected a DeliveryError');
}

describe('webhook receiver (real HTTP, the real sender)', () => {
  it('accepts a signed generic webhook and prints one readable line', async () => {
    receiver = await startWebhookReceiver({ secret: 'whsec', print: (l) => lines.push(l) });
    await send({ id: 'h', type: 'webhook', url: `${receiver.url}/hook`, secret: 'whsec' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.verified).toBe(true);
    expect(receiver.received[0]?.title).toBe('【舆情·严重】新事件：“昆明是一座正在死去的城市”话题爆发');
    expect(lines[0]).toContain('【舆情·严重】新事件');
    expect(lines[0]).toContain('http://127.0.0.1:3000/#/incidents/inc-20151020-0001');
  });

  it('answers 401 to a bad signature: a permanent failure', async () => {
    receiver = await startWebhookReceiver({ secret: 'whsec', print: (l) => lines.push(l) });
    const err = await rejection(send({ id: 'h', type: 'webhook', url: `${receiver.url}/hook`, secret: 'wrong' }));
    expect(err.status).toBe(401);
    expect(err.retriable).toBe(false);
    expect(receiver.received).toHaveLength(0);
    expect(receiver.refused).toBe(1);
  });

  it('fails the first n requests with 500: a retriable failure', async () => {
    receiver = await startWebhookReceiver({ secret: 'whsec', failFirst: 2, print: (l) => lines.push(l) });
    const channel: ChannelTarget = { id: 'h', type: 'webhook', url: `${receiver.url}/hook`, secret: 'whsec' };
    for (let i = 0; i < 2; i++) expect((await rejection(send(channel))).retriable).toBe(true);
    await send(channel);
    expect(receiver.attempts).toBe(3);
    expect(receiver.received).toHaveLength(1);
  });

  it('checks DingTalk and Feishu signing and answers with their error codes', async () => {
    receiver = await startWebhookReceiver({ secret: 'SECbot', print: (l) => lines.push(l) });
    await send({ id: 'dd', type: 'dingtalk', url: `${receiver.url}/robot/send?access_token=t1`, secret: 'SECbot' });
    await send({ id: 'fs', type: 'feishu', url: `${receiver.url}/open-apis/bot/v2/hook/t2`, secret: 'SECbot' });
    await send({ id: 'wx', type: 'wecom', url: `${receiver.url}/cgi-bin/webhook/send?key=t3` });
    expect(receiver.received.map((m) => [m.channel, m.verified])).toEqual([
      ['dingtalk', true],
      ['feishu', true],
      ['wecom', false],
    ]);
    for (const m of receiver.received) expect(m.title).toContain('新事件');

    const dd = await rejection(send({ id: 'dd', type: 'dingtalk', url: `${receiver.url}/robot/send?access_token=t1`, secret: 'other' }));
    expect([dd.vendorCode, dd.retriable]).toEqual([310000, false]);
    const fs = await rejection(send({ id: 'fs', type: 'feishu', url: `${receiver.url}/open-apis/bot/v2/hook/t2`, secret: 'other' }));
    expect([fs.vendorCode, fs.retriable]).toEqual([19021, false]);
  });

  it('answers GET /healthz, /readyz and /metrics (the shared ops server) without counting them or using up the planned failures', async () => {
    receiver = await startWebhookReceiver({ secret: 'whsec', failFirst: 1, print: (l) => lines.push(l) });
    const health = await fetch(`${receiver.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${receiver.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    expect((await fetch(`${receiver.url}/metrics`)).status).toBe(200);
    expect(receiver.attempts).toBe(0);
    // Still a webhook for POST: the first one is the planned failure.
    const channel: ChannelTarget = { id: 'h', type: 'webhook', url: `${receiver.url}/healthz`, secret: 'whsec' };
    expect((await rejection(send(channel))).retriable).toBe(true);
    await send(channel);
    expect(receiver.received.map((m) => m.path)).toEqual(['/healthz']);
    expect((await fetch(`${receiver.url}/elsewhere`)).status).toBe(405);

    // What it did, by outcome: the planned failure, the webhook, the GET it refused; not the probes.
    const metrics = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(metrics).toContain('tingfeng_webhook_receiver_requests_total{outcome="failed_on_purpose",service="webhook-receiver"} 1');
    expect(metrics).toContain('tingfeng_webhook_receiver_requests_total{outcome="accepted",service="webhook-receiver"} 1');
    expect(metrics).toContain('tingfeng_webhook_receiver_requests_total{outcome="malformed",service="webhook-receiver"} 1');
    expect(metrics).toContain('tingfeng_process_');
  });

  it('counts refused signatures in its metrics', async () => {
    receiver = await startWebhookReceiver({ secret: 'SECbot', print: () => {} });
    await rejection(send({ id: 'dd', type: 'dingtalk', url: `${receiver.url}/robot/send?access_token=t1`, secret: 'other' }));
    await rejection(send({ id: 'h', type: 'webhook', url: `${receiver.url}/hook`, secret: 'other' }));
    const metrics = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(metrics).toContain('tingfeng_webhook_receiver_requests_total{outcome="refused",service="webhook-receiver"} 2');
    expect(receiver.refused).toBe(2);
  });

  it('a refused connection is retriable and its error names no URL', async () => {
    receiver = await startWebhookReceiver({ print: () => {} });
    const url = `${receiver.url}/cgi-bin/webhook/send?key=s3cr3t`;
    await receiver.close();
    const err = await rejection(send({ id: 'wx', type: 'wecom', url }));
    expect(err.retriable).toBe(true);
    expect(err.message).not.toContain('s3cr3t');
  });
});
