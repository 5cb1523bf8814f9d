/**
 * Settings are validated at start: a bad value stops each service with exit 78 (EX_CONFIG) and exactly one line on
 * stderr naming the variable (never its value), never a stack trace. Nothing is connected before the check, so no broker is needed.
 */
import { describe, expect, it } from 'vitest';
import { serviceDirs, serviceFacts } from '../../infra/docker/dockerfiles.js';
import { startService } from './child-process.js';

describe.each(serviceDirs())('%s', (dir) => {
  it('refuses a malformed port with one line naming it and exit 78', async () => {
    const { portVariable } = await serviceFacts(dir);
    const proc = startService(dir, { [portVariable]: 'abc' });
    const { code } = await proc.exited;
    const lines = proc.stderr().split('\n').filter((l) => l.trim() !== '');
    expect(code).toBe(78);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^invalid configuration: ${portVariable}: `));
    // The value is never repeated: in another variable it could be a token or a password.
    expect(lines[0]).not.toContain('abc');
  });
});
