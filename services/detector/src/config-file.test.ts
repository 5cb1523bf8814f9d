import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDetectorConfigFile } from './app.js';

const dir = mkdtempSync(join(tmpdir(), 'detector-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('DETECTOR_CONFIG_FILE', () => {
  it('reads a JSON object of settings', () => {
    expect(readDetectorConfigFile(file('ok.json', '{"sensitivity": 1.5}'))).toEqual({ sensitivity: 1.5 });
  });

  it.each([
    ['missing', join(dir, 'absent.json'), /cannot read the file \(ENOENT\)/],
    ['not JSON', file('bad.json', '{ sensitivity: '), /not valid JSON/],
    ['not an object', file('array.json', '[1, 2]'), /must hold a JSON object/],
  ])('a file that is %s is a configuration error naming the variable', (_, path, problem) => {
    expect(() => readDetectorConfigFile(path)).toThrow(/^invalid configuration: DETECTOR_CONFIG_FILE: /);
    expect(() => readDetectorConfigFile(path)).toThrow(problem);
  });

  it('ends the process with one line on stderr and exit 78, no stack trace', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts')], {
      env: { ...process.env, DETECTOR_CONFIG_FILE: file('broken.json', '{"cascade": '), LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^invalid configuration: DETECTOR_CONFIG_FILE: the file is not valid JSON/);
  });
});
