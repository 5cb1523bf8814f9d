import { describe, expect, it } from 'vitest';
import { EMPTY_ALLOW_LIST } from '@tingfeng/channels';
import { ConfigError } from '@tingfeng/config';
import { DEFAULT_REDIS_PREFIX } from '@tingfeng/contracts';
import { DEFAULT_QUEUE_PREFIX } from '@tingfeng/queue';
import { loadIncidentsConfig, parseApiTokens } from './config.js';

describe('incidents settings', () => {
  it('has working defaults', () => {
    const c = loadIncidentsConfig({});
    expect(c).toMatchObject({ INCIDENTS_PORT: 3000, REDIS_PREFIX: 'tf:', QUEUE_PREFIX: 'tf', INCIDENT_EVENTS_TOPIC: 'incident-events', INCIDENT_AUTO_RESOLVE_MS: 7_200_000 });
    expect(c.API_TOKENS).toEqual([]);
    // the shared block's default is written out in @tingfeng/config, which depends on no other package: keep them one
    expect(c.REDIS_PREFIX).toBe(DEFAULT_REDIS_PREFIX);
    expect(c.QUEUE_PREFIX).toBe(DEFAULT_QUEUE_PREFIX);
  });

  it('reads NOTIFY_ALLOWED_HOSTS through the block it shares with the notifier, naming a bad entry by position only', () => {
    expect([...loadIncidentsConfig({ NOTIFY_ALLOWED_HOSTS: 'Webhook-Receiver, 127.0.0.1' }).NOTIFY_ALLOWED_HOSTS.hosts]).toEqual(['webhook-receiver']);
    expect(loadIncidentsConfig({}).NOTIFY_ALLOWED_HOSTS).toEqual(EMPTY_ALLOW_LIST);
    expect(() => loadIncidentsConfig({ NOTIFY_ALLOWED_HOSTS: 'ok.example,http://secret-host/' })).toThrow(
      /^invalid configuration: NOTIFY_ALLOWED_HOSTS: entry 2 of 2 is not a host name(?!.*secret-host)/,
    );
  });

  it('reads token:role pairs and token:role:name triples', () => {
    const [oncall, analyst] = parseApiTokens('oncall-0123456789abcdef:oncall, analyst-0123456789abcdef:analyst:分析员小李');
    expect(analyst).toEqual({ token: 'analyst-0123456789abcdef', role: 'analyst', principal: '分析员小李' });
    expect(oncall).toMatchObject({ token: 'oncall-0123456789abcdef', role: 'oncall' });
    // Without a name: a fingerprint that holds no part of the token.
    expect(oncall!.principal).toMatch(/^oncall#[0-9a-f]{8}$/);
    const fingerprint = oncall!.principal.slice('oncall#'.length);
    for (let i = 0; i + 3 <= fingerprint.length; i++) expect(oncall!.token).not.toContain(fingerprint.slice(i, i + 3));
  });

  it('names the variable when a token is malformed', () => {
    expect(() => loadIncidentsConfig({ API_TOKENS: 's3cret-s3cret-s3cret:root' })).toThrow(ConfigError);
    expect(() => loadIncidentsConfig({ API_TOKENS: 's3cret-s3cret-s3cret:root' })).toThrow(/^invalid configuration: API_TOKENS: entry 1 of 1: the role is not one of/);
  });

  it('refuses a token shorter than 16 characters without repeating any of it', () => {
    const message = (() => {
      try {
        loadIncidentsConfig({ API_TOKENS: 'oncall-0123456789abcdef:oncall,hunter2:admin' });
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    })();
    expect(message).toBe('invalid configuration: API_TOKENS: entry 2 of 2: the token is shorter than 16 characters');
    expect(() => loadIncidentsConfig({ INCIDENT_AUTO_RESOLVE_MS: 'soon' })).toThrow(/INCIDENT_AUTO_RESOLVE_MS/);
  });
});
