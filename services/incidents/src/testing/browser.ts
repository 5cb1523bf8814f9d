import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM_PATH, ensureChromium } from '@tingfeng/testing/infra';

export { CHROMIUM_PATH };

/**
 * Launches Debian's chromium headless in a fresh profile directory (Playwright passes it as --user-data-dir)
 * with everything that would reach the network turned off. Close the returned context to end the browser.
 */
export async function launchChromium(options: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<BrowserContext> {
  // Test setup installed them before any file ran; this only checks (and installs under the apt lock for a file run alone).
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
