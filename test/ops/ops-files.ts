/**
 * Readers shared by the ops tests: the compose file, the Dockerfiles and the .dockerignore, parsed just enough to
 * compare them with the code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../infra/docker/dockerfiles.js';

export { REPO_ROOT };

/**
 * Variables a service process reads outside its settings schema: LOG_LEVEL by @tingfeng/logger, the other two by
 * Node itself. Anything else set for a service must be a key of its schema.
 */
export const PROCESS_VARIABLES = ['LOG_LEVEL', 'NODE_ENV', 'NODE_OPTIONS'] as const;

export interface ComposeHealthcheck {
  test?: string[] | string;
}

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; target?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number })[];
  expose?: (string | number)[];
  healthcheck?: ComposeHealthcheck;
  depends_on?: Record<string, { condition?: string }> | string[];
  profiles?: string[];
  stop_grace_period?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[] | string;
  volumes?: (string | { source?: string; target: string })[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

export function readCompose(path = join(REPO_ROOT, 'docker-compose.yml')): ComposeFile {
  // Compose honours YAML merge keys (`<<: *app`); so must the reader.
  return parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

export function composeEnvironment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The container-side port of each `ports` and `expose` entry. */
export function containerPorts(service: ComposeService): number[] {
  const fromPorts = (service.ports ?? []).map((p) => (typeof p === 'string' ? Number(p.split(':').pop()!.split('/')[0]) : p.target));
  const fromExpose = (service.expose ?? []).map((p) => Number(String(p).split('/')[0]));
  return [...fromPorts, ...fromExpose];
}

/** Compose durations such as `30s`, `1m30s`, `500ms` in milliseconds. */
export function durationMs(value: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let matched = '';
  for (let m = re.exec(value); m; m = re.exec(value)) {
    matched += m[0];
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  if (matched !== value) throw new Error(`not a compose duration: ${value}`);
  return total;
}

/** A health command's target: the port and path it fetches, or the port it connects to (path undefined). */
export function healthTarget(command: readonly string[]): { port: number; path: string | undefined } | undefined {
  const script = command.join(' ');
  const http = /http:\/\/127\.0\.0\.1:(?:'\+\(process\.env\.\w+\|\|)?(\d+)\)?(?:\+')?(\/[\w/-]*)/.exec(script);
  if (http) return { port: Number(http[1]), path: http[2] };
  const tcp = /connect\(\(?(?:process\.env\.\w+\|\|)?(\d+)\)?,/.exec(script);
  if (tcp) return { port: Number(tcp[1]), path: undefined };
  return undefined;
}

export interface DockerInstruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions of a Dockerfile with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      line = `${line.slice(0, -1)} ${lines[i]!.trim()}`;
    }
    const m = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  return out;
}

/** The sources of a `COPY` (not `--from`): undefined for a copy from another stage. */
export function copySources(args: string): string[] | undefined {
  const words = args.split(/\s+/);
  if (words.some((w) => w.startsWith('--from='))) return undefined;
  const paths = words.filter((w) => !w.startsWith('--'));
  return paths.slice(0, -1);
}

/** A JSON-array (exec form) argument, e.g. of CMD or HEALTHCHECK ... CMD. */
export function execForm(args: string): string[] {
  return JSON.parse(args) as string[];
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i += 1;
      if (pattern[i + 1] === '/') i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(/.*)?$`);
}

/** Whether a path is left out of the build context by .dockerignore (no `!` exceptions are used there). */
export function dockerIgnored(path: string): boolean {
  const file = join(REPO_ROOT, '.dockerignore');
  if (!existsSync(file)) return false;
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!'))) throw new Error('.dockerignore exceptions (!) are not understood by this reader');
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  return patterns.some((p) => globToRegExp(p.replace(/^\//, '')).test(clean));
}
