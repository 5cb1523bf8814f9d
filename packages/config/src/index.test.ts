import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  bearerToken,
  ConfigError,
  loadConfig,
  matchToken,
  parsedSetting,
  QUEUE_SETTINGS,
  REDIS_KEY_SETTINGS,
  REDIS_SETTINGS,
  secretSetting,
  tokenFingerprint,
  tokenListSetting,
  VIEW_REDIS_SETTINGS,
  viewRedisUrl,
} from './index.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
});

describe('loadConfig', () => {
  it('applies defaults and coerces', () => {
    expect(loadConfig(schema, { PORT: '8080' })).toEqual({ PORT: 8080, KAFKA_BROKERS: '127.0.0.1:9092' });
  });
  it('names the bad variable in one line', () => {
    try {
      loadConfig(schema, { PORT: 'eighty' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe('PORT');
      expect((err as Error).message).toMatch(/^invalid configuration: PORT: /);
      expect((err as Error).message).not.toContain('eighty');
      expect((err as Error).message).not.toContain('\n');
    }
  });
  it('never echoes a value, whatever the kind of problem', () => {
    const secrets = z.object({
      MODE: z.enum(['a', 'b']).optional(),
      URL: z.string().url().optional(),
      SECRET: secretSetting().optional(),
      TOKENS: tokenListSetting(),
    });
    const cases: Record<string, string>[] = [
      { MODE: 'hunter2-hunter2-hunter2' },
      { URL: 'hunter2-hunter2-hunter2' },
      { SECRET: 'hunter2' },
      { TOKENS: 'a-long-enough-token-1,hunter2' },
    ];
    for (const env of cases) {
      const [variable] = Object.keys(env);
      const err = (() => {
        try {
          loadConfig(secrets, env);
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error(`${variable} was accepted`);
      })();
      expect(err.variable).toBe(variable);
      expect(err.message).not.toContain('hunter2');
    }
  });
});

describe('tokens', () => {
  it('refuses a token shorter than 16 characters, naming its position only', () => {
    const schema = z.object({ TOKENS: tokenListSetting() });
    expect(loadConfig(schema, {}).TOKENS).toEqual([]);
    expect(loadConfig(schema, { TOKENS: 'abcdefghijklmnop, qrstuvwxyz012345' }).TOKENS).toEqual(['abcdefghijklmnop', 'qrstuvwxyz012345']);
    expect(() => loadConfig(schema, { TOKENS: 'abcdefghijklmnop,short' })).toThrow('TOKENS: entry 2 of 2 is shorter than 16 characters');
  });
  it('matches in constant time whatever the lengths, and fingerprints without the token', () => {
    const tokens = ['abcdefghijklmnop', 'qrstuvwxyz012345'];
    expect(matchToken(tokens, 'qrstuvwxyz012345')).toBe(1);
    expect(matchToken(tokens, 'qrstuvwxyz01234')).toBe(-1);
    expect(matchToken(tokens, '')).toBe(-1);
    expect(matchToken([], 'x')).toBe(-1);
    expect(tokenFingerprint('abcdefghijklmnop')).toMatch(/^[0-9a-f]{8}$/);
    expect('abcdefghijklmnop').not.toContain(tokenFingerprint('abcdefghijklmnop'));
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header, any case, spaces around it dropped', () => {
    expect(bearerToken('Bearer abcdefghijklmnop')).toBe('abcdefghijklmnop');
    expect(bearerToken('bearer   abcdefghijklmnop  ')).toBe('abcdefghijklmnop');
  });
  it('is undefined without a header, for another scheme, or with no token', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearer    ')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
  });
});

describe('parsedSetting', () => {
  const schema = z.object({ HOSTS: parsedSetting((value) => (value ?? '').split(',').map((h) => {
    if (h.includes(' ')) throw new Error('an entry has a space');
    return h;
  })) });
  it('is what the parser returns, and the parser’s error is the setting’s', () => {
    expect(loadConfig(schema, { HOSTS: 'a,b' }).HOSTS).toEqual(['a', 'b']);
    expect(() => loadConfig(schema, { HOSTS: 'a b' })).toThrow(/HOSTS.*an entry has a space/s);
  });
});

describe('queue settings', () => {
  it('default to the `tf` BullMQ prefix and take what is set', () => {
    const schema = z.object({ ...QUEUE_SETTINGS });
    expect(loadConfig(schema, {})).toEqual({ QUEUE_PREFIX: 'tf' });
    expect(loadConfig(schema, { QUEUE_PREFIX: 'run-7' })).toEqual({ QUEUE_PREFIX: 'run-7' });
  });
});

describe('Redis settings', () => {
  const schema = z.object({ ...REDIS_SETTINGS, ...REDIS_KEY_SETTINGS });
  it('default to the local Redis and the `tf:` key prefix', () => {
    expect(loadConfig(schema, {})).toEqual({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: 'tf:' });
  });
  it('take what is set', () => {
    expect(loadConfig(schema, { REDIS_URL: 'redis://redis:6380/2', REDIS_PREFIX: 'x:' })).toEqual({ REDIS_URL: 'redis://redis:6380/2', REDIS_PREFIX: 'x:' });
  });
  it('refuse a REDIS_URL that is not a URL, without echoing it', () => {
    expect(() => loadConfig(schema, { REDIS_URL: 'secret-host' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { REDIS_URL: 'secret-host' })).toThrow(/^invalid configuration: REDIS_URL: (?!.*secret-host)/);
  });
});

describe('the incident view Redis setting', () => {
  const schema = z.object({ ...REDIS_SETTINGS, ...VIEW_REDIS_SETTINGS });
  it('defaults to REDIS_URL (one Redis), an empty value included', () => {
    expect(viewRedisUrl(loadConfig(schema, { REDIS_URL: 'redis://main:6379' }))).toBe('redis://main:6379');
    expect(viewRedisUrl(loadConfig(schema, { REDIS_URL: 'redis://main:6379', INCIDENT_VIEW_REDIS_URL: '' }))).toBe('redis://main:6379');
  });
  it('takes a Redis of its own', () => {
    expect(viewRedisUrl(loadConfig(schema, { REDIS_URL: 'redis://main:6379', INCIDENT_VIEW_REDIS_URL: 'redis://view:6379/1' }))).toBe('redis://view:6379/1');
  });
  it('refuses one that is not a URL, without echoing it', () => {
    expect(() => loadConfig(schema, { INCIDENT_VIEW_REDIS_URL: 'secret-host' })).toThrow(/^invalid configuration: INCIDENT_VIEW_REDIS_URL: (?!.*secret-host)/);
  });
});
