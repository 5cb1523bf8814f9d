import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tingfeng/config';
import { loadIncidentsConfig, parseApiTokens } from './config.js';

describe('incidents settings', () => {
  it('has working defaults', () => {
    const c = loadIncidentsConfig({});
    expect(c).toMatchObject({ INCIDENTS_PORT: 3000, REDIS_PREFIX: 'tf:', QUEUE_PREFIX: 'tf', INCIDENT_EVENTS_TOPIC: 'incident-events', INCIDENT_AUTO_RESOLVE_MS: 7_200_000 });
    expect(c.API_TOKENS).toEqual([]);
  });

  it('reads token:role pairs and token:role:name triples', () => {
    expect(parseApiTokens('s3cret:oncall, r34d:analyst:分析员小李')).toEqual([
      { token: 's3cret', role: 'oncall', principal: 'oncall:s3cr…' },
      { token: 'r34d', role: 'analyst', principal: '分析员小李' },
    ]);
  });

  it('names the variable when a token is malformed', () => {
    expect(() => loadIncidentsConfig({ API_TOKENS: 's3cret:root' })).toThrow(ConfigError);
    expect(() => loadIncidentsConfig({ API_TOKENS: 's3cret:root' })).toThrow(/API_TOKENS: role "root"/);
    expect(() => loadIncidentsConfig({ INCIDENT_AUTO_RESOLVE_MS: 'soon' })).toThrow(/INCIDENT_AUTO_RESOLVE_MS/);
  });
});
