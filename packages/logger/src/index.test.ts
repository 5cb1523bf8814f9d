import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the root logger', () => {
  // A child process: the root logger writes to its own stdout, created once per process.
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'log-secrets.fixture.ts')], {
    env: { ...process.env, LOG_LEVEL: 'info', CI: 'true' },
    encoding: 'utf8',
  });
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes one JSON object a line, each with its component', () => {
    expect(result.status).toBe(0);
    expect(lines.map((line) => line['msg'])).toEqual(['channel', 'request', 'config', 'redis refused']);
    expect(lines.every((line) => line['component'] === 'fixture')).toBe(true);
  });

  it('redacts tokens, webhook URLs, signing secrets, authorization headers and configured API tokens', () => {
    for (const secret of ['tok-top-level', 'hooks.example', 's3cret-signing', 'tok-header', 'tok-config']) {
      expect(result.stdout).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ token: '[redacted]', channel: { name: 'ops', webhookUrl: '[redacted]', signingSecret: '[redacted]' } });
    expect(lines[2]).toMatchObject({ config: { API_TOKENS: '[redacted]', PORT: 8080 } });
  });

  it("drops the arguments of a refused Redis command but keeps the error's message and stack", () => {
    const err = lines[3]?.['err'] as Record<string, unknown>;
    expect(err['message']).toBe('OOM');
    expect(typeof err['stack']).toBe('string');
    expect(result.stdout).not.toContain('x'.repeat(64));
  });
});
