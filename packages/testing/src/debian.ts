import { spawnSync } from 'node:child_process';

/** The lock every apt-get of this project takes: dpkg's own lock fails a second installer instead of waiting. */
export const APT_LOCK = '/tmp/tingfeng-apt.lock';

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs Debian's `pkg` when `command` is not on the PATH: under {@link APT_LOCK}, looking again once it holds
 * the lock (another run may have installed it meanwhile), with `apt-get update` first when the package lists are
 * missing. For tools tests drive from outside Node (kcat); only Debian's packages are reachable on a fresh machine.
 */
export function ensureDebianCommand(command: string, pkg: string = command): void {
  if (hasCommand(command)) return;
  const script = [
    `command -v ${command} >/dev/null && exit 0`,
    'ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update',
    `apt-get install -y --no-install-recommends ${pkg}`,
  ].join('\n');
  const result = spawnSync('flock', [APT_LOCK, 'sh', '-ec', script], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0 || !hasCommand(command)) {
    throw new Error(`${command} is missing and apt-get install ${pkg} failed (exit ${result.status ?? result.signal ?? result.error?.message})`);
  }
}
