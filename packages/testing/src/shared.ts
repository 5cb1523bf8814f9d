import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** The team's shared folder beside the repository: the seed article and the labelled data sets. */
export const SHARED_DIR = resolve(fileURLToPath(import.meta.url), '../../../../../shared');

/**
 * A file of the shared folder, for tests that read it. CI always lays the folder beside the clone, so there a missing
 * file is an error; a clone elsewhere has no such folder, and the test is skipped rather than failed.
 */
export function sharedFile(relative: string): string | undefined {
  const path = resolve(SHARED_DIR, relative);
  if (existsSync(path)) return path;
  if (process.env['CI'] === 'true') throw new Error(`${path} is missing: CI lays ../shared beside the clone`);
  return undefined;
}
