import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAddress, checkUrl, EMPTY_ALLOW_LIST, parseAllowList } from './destination.js';
import { DeliveryError } from './errors/delivery-error.js';
import { sendRequest } from './sender.js';
import type { ChannelType } from './types.js';

// Real HTTP on loopback: a local server stands in for every destination, and counts what reached it.
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: (res: ServerResponse) => void = (res) => res.end('{"errcode":0}')): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    handler(res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, hits: () => hits };
}

const request = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, body: '{"text":"昆明"}' });

async function refusal(type: ChannelType, url: string, allow = EMPTY_ALLOW_LIST): Promise<DeliveryError> {
  try {
    await sendRequest(type, request(url), { timeoutMs: 5_000, allowList: allow });
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw err;
  }
  throw new Error(`${url} was delivered`);
}

describe('where requests may go', () => {
  it('refuses loopback, however it is written, and names that resolve to it, unless allow-listed; nothing reaches the server', async () => {
    const { port, hits } = await serve();
    for (const host of ['127.0.0.1', '127.1', '0x7f000001', '2130706433', '[::ffff:127.0.0.1]', 'localhost']) {
      const err = await refusal('webhook', `http://${host}:${port}/hook`);
      expect(err.retriable, host).toBe(false);
      expect(err.message, host).toMatch(/^destination refused: the host resolves to a loopback address/);
    }
    expect(hits()).toBe(0);
    await sendRequest('webhook', request(`http://127.0.0.1:${port}/hook`), { allowList: parseAllowList(['127.0.0.1']) });
    await sendRequest('webhook', request(`http://127.0.0.1:${port}/hook`), { allowList: parseAllowList(['127.0.0.0/8']) });
    // A listed name lets that name through: the address it resolves to is then the operator's choice.
    await sendRequest('webhook', request(`http://localhost:${port}/hook`), { allowList: parseAllowList(['localhost', '::1']) }).catch((err: Error) => {
      // localhost may resolve to ::1 first, where this server does not listen; what matters is it was not refused.
      expect(err.message).not.toMatch(/destination refused/);
    });
    expect(hits()).toBeGreaterThanOrEqual(2);
  });

  it('refuses link-local (cloud metadata), private, CGNAT, unspecified and IPv6 local ranges without connecting', async () => {
    for (const host of ['169.254.169.254', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '0.0.0.0', '[::1]', '[fe80::1]', '[fd00::1]']) {
      const err = await refusal('webhook', `http://${host}:6379/`);
      expect(err.message, host).toMatch(/^destination refused: the host resolves to a \w+ address/);
      expect(err.retriable).toBe(false);
    }
    expect(checkAddress('x', '8.8.8.8', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(checkAddress('x', '2400:3200::1', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(checkAddress('x', '::ffff:169.254.169.254', EMPTY_ALLOW_LIST)).toMatch(/linkLocal/);
    expect(checkAddress('x', '10.9.8.7', parseAllowList(['10.0.0.0/8']))).toBeUndefined();
    expect(checkAddress('webhook-receiver', '10.9.8.7', parseAllowList(['webhook-receiver']))).toBeUndefined();
    expect(checkAddress('other', '10.9.8.7', parseAllowList(['webhook-receiver']))).toMatch(/private/);
  });

  it('sends the bots only to their vendors, over https, unless a stand-in host is allow-listed', async () => {
    expect(checkUrl('wecom', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(checkUrl('dingtalk', 'https://oapi.dingtalk.com/robot/send?access_token=t', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(checkUrl('feishu', 'https://open.feishu.cn/open-apis/bot/v2/hook/t', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(checkUrl('feishu', 'https://open.larksuite.com/open-apis/bot/v2/hook/t', EMPTY_ALLOW_LIST)).toBeUndefined();
    expect(checkUrl('wecom', 'http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', EMPTY_ALLOW_LIST)).toMatch(/https/);
    expect(checkUrl('wecom', 'https://qyapi.weixin.qq.com:8443/x', EMPTY_ALLOW_LIST)).toMatch(/443/);
    expect(checkUrl('dingtalk', 'https://oapi.dingtalk.com.evil.example/robot/send', EMPTY_ALLOW_LIST)).toMatch(/only to oapi\.dingtalk\.com/);
    expect(checkUrl('webhook', 'file:///etc/passwd', EMPTY_ALLOW_LIST)).toMatch(/scheme/);

    const { port, hits } = await serve();
    const err = await refusal('wecom', `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=secret-key`);
    expect(err.message).toBe('destination refused: wecom channels go only to qyapi.weixin.qq.com');
    expect(err.message).not.toContain('secret-key');
    expect(hits()).toBe(0);
    await sendRequest('wecom', request(`http://127.0.0.1:${port}/cgi-bin/webhook/send?key=k`), { allowList: parseAllowList(['127.0.0.1']) });
    expect(hits()).toBe(1);
  });

  it('reads at most maxResponseBytes of an answer: an endless one does not hold the sender', async () => {
    let closed = false;
    const { port } = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!closed && res.write(chunk));
        if (!closed) res.once('drain', pump);
      };
      res.once('close', () => {
        closed = true;
      });
      pump();
    });
    const result = await sendRequest('webhook', request(`http://127.0.0.1:${port}/hook`), {
      timeoutMs: 60_000,
      maxResponseBytes: 16 * 1024,
      allowList: parseAllowList(['127.0.0.1']),
    });
    expect(result.status).toBe(200);
  });

  it('follows no redirect', async () => {
    const { port } = await serve((res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    });
    const err = await refusal('webhook', `http://127.0.0.1:${port}/hook`, parseAllowList(['127.0.0.1']));
    expect(err).toMatchObject({ status: 302, retriable: false });
  });

  it('reads the allow-list: host names, addresses and CIDR ranges, naming a bad entry by position only', () => {
    const allow = parseAllowList(['Webhook-Receiver', '127.0.0.1', '10.0.0.0/8', '[::1]', 'fd00::/8']);
    expect([...allow.hosts]).toEqual(['webhook-receiver']);
    expect(allow.ranges).toHaveLength(4);
    expect(() => parseAllowList(['ok.example', 'http://x/'])).toThrow('entry 2 of 2 is not a host name, an IP address or a CIDR range');
  });
});
