import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

function hasCjkFont(): boolean {
  const out = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return out.status === 0 && out.stdout.trim().length > 0;
}

function aptListsEmpty(): boolean {
  try {
    return readdirSync('/var/lib/apt/lists').filter((f) => f.endsWith('_Packages')).length === 0;
  } catch {
    return true;
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Makes sure Debian's chromium and a CJK font are installed (`apt-get install -y chromium fonts-noto-cjk`,
 * after `apt-get update` when the package lists are missing). Playwright's own browser download is not used:
 * only Debian's packages are reachable here.
 */
export function ensureChromium(): void {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM_PATH)) missing.push('chromium');
  if (!hasCjkFont()) missing.push('fonts-noto-cjk');
  if (missing.length === 0) return;
  if (aptListsEmpty()) run('apt-get', ['update']);
  run('apt-get', ['install', '-y', 'chromium', 'fonts-noto-cjk']);
}

/**
 * Launches Debian's chromium headless in a fresh profile directory (Playwright passes it as --user-data-dir)
 * with everything that would reach the network turned off. Close the returned context to end the browser.
 */
export async function launchChromium(options: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<BrowserContext> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'tingfeng-chromium-'));
  return chromium.launchPersistentContext(profile, {
    ...options,
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What {@link watchCsp} records: one line per refused resource or inline code, `directive blocked-uri (source)`. */
export interface CspWatch {
  readonly violations: string[];
}

/**
 * Records every Content-Security-Policy violation in every page and frame of `context` (the
 * `securitypolicyviolation` event, reported through a binding so it survives navigations). Call before opening pages.
 */
export async function watchCsp(context: BrowserContext): Promise<CspWatch> {
  const violations: string[] = [];
  await context.exposeBinding('__tingfengCspViolation', (_source, line: string) => {
    violations.push(line);
  });
  // A string, not a function: this package is compiled without the DOM's types.
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    void window.__tingfengCspViolation(\`\${e.effectiveDirective} \${e.blockedURI || 'inline'} (\${e.sourceFile || location.href}:\${e.lineNumber})\`);
  });`);
  return { violations };
}
