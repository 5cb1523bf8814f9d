import { spawnSync } from 'node:child_process';

/** The lock every apt-get of this project takes: dpkg's own lock fails a second installer instead of waiting. */
export const APT_LOCK = '/tmp/tingfeng-apt.lock';

/** A Debian package a test needs, and a shell test that succeeds once what it provides is there. */
export interface DebianNeed {
  pkg: string;
  /** Run by `sh -c`; exit 0 means present (for example `command -v kcat`). */
  present: string;
}

function isPresent(need: DebianNeed): boolean {
  return spawnSync('sh', ['-c', need.present], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs the Debian packages of `needs` whose test fails: under {@link APT_LOCK}, testing again once it holds the
 * lock (another run may have installed them meanwhile), with `apt-get update` first when the package lists are
 * missing. Only Debian's packages are reachable on a fresh machine, so tools tests drive from outside Node (kcat,
 * chromium) come from there. Throws, naming the packages, when the install fails.
 */
export function ensureDebianPackages(needs: readonly DebianNeed[], options: { recommends?: boolean } = {}): void {
  if (needs.every(isPresent)) return;
  const script = [
    'missing=""',
    ...needs.map((n) => `(${n.present}) >/dev/null 2>&1 || missing="$missing ${n.pkg}"`),
    '[ -z "$missing" ] && exit 0',
    'ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update',
    `apt-get install -y ${options.recommends ? '' : '--no-install-recommends '}$missing`,
  ].join('\n');
  const result = spawnSync('flock', [APT_LOCK, 'sh', '-ec', script], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = needs.filter((n) => !isPresent(n)).map((n) => n.pkg);
  if (result.status !== 0 || still.length > 0) {
    throw new Error(`${still.join(', ') || 'a package'} missing and apt-get install failed (exit ${result.status ?? result.signal ?? result.error?.message})`);
  }
}

/** Installs Debian's `pkg` when `command` is not on the PATH (see {@link ensureDebianPackages}). */
export function ensureDebianCommand(command: string, pkg: string = command): void {
  ensureDebianPackages([{ pkg, present: `command -v ${command}` }]);
}

/** Where Debian's chromium is; the browser tests and the incidents service's PDF reports drive it. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Debian's chromium and a CJK font (the dashboard is in Chinese; without one every glyph is a box). Installed with
 * their recommended packages, as a desktop has them. Test setup calls this once before any browser test runs.
 */
export function ensureChromium(): void {
  ensureDebianPackages(
    [
      { pkg: 'chromium', present: `test -x ${CHROMIUM_PATH}` },
      { pkg: 'fonts-noto-cjk', present: "fc-list ':lang=zh' family | grep -q ." },
    ],
    { recommends: true },
  );
}
