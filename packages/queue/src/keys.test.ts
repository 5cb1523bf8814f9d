import { describe, expect, it } from 'vitest';
import { redisKeys } from './keys.js';

describe('redisKeys', () => {
  it('builds the shared view keys under the prefix', () => {
    const k = redisKeys('t1:');
    expect(k.incident('abc')).toBe('t1:incident:abc');
    expect(k.incidents).toBe('t1:incidents');
    expect(k.incidentOpen('cascade:1')).toBe('t1:incident-open:cascade:1');
    expect(k.routes).toBe('t1:config:routes');
    expect(k.silences).toBe('t1:config:silences');
    expect(k.channels).toBe('t1:config:channels');
    expect(k.campaign('i1')).toBe('t1:campaign:i1');
    expect(k.campaignsActive).toBe('t1:campaigns:active');
    expect(k.campaignSeries('i1')).toBe('t1:campaign-series:i1');
    expect(redisKeys().incidents).toBe('tf:incidents');
  });
});
