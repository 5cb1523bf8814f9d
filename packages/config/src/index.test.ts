import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './index.js';

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
      expect((err as Error).message).toMatch(/^invalid configuration: PORT: .*"eighty"/);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
