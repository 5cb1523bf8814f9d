/**
 * pnpm containers:verify
 *
 * The images and the compose stack, run for real on this machine with podman: makes the upstream images this
 * machine cannot pull (infra/docker/local/images.sh, cached), builds every image docker-compose.yml names from the
 * unchanged Dockerfiles, brings the stack up with the demo profile, waits for health, lets the demo replay run
 * through the containers, checks on the API that the dying-city incident is `critical` (opened so, or raised to it) with its cascade, story
 * and response alerts and that a signed notification reached the webhook receiver, stops the stack (SIGTERM) and
 * checks that every container exited 0. Prints each step with its duration, image sizes and each service's start
 * time; exits non-zero on any failure.
 *
 * The stack runs in a network namespace of its own (the podman service and so every container and published port
 * live there), so it never meets the shared Kafka, Redis or PostgreSQL on this machine's 9092, 6379 and 5432. The
 * script runs itself again inside that namespace for the stack phase (`--in-netns`).
 *
 * Options: --skip-images (use the images already built), --keep (leave the stack up on failure, for a look),
 * --if-changed (CI: run only when the submission changed the container files — infra/, docker-compose.yml,
 * tsconfig.build.json, .dockerignore, this script — compared with the previous landed commit: the one the last
 * passing `.ci/run` on this machine recorded, or TINGFENG_CI_BASE; with neither, the commits of the last 4 hours).
 * Settings: TINGFENG_TAG (image tag, default `dev`), CONTAINERS_VERIFY_TIMEOUT_S (each wait, default 600),
 * TINGFENG_CI_BASE (the commit --if-changed compares with).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const localDir = join(repoRoot, 'infra', 'docker', 'local');
const workDir = join(repoRoot, '.cache', 'containers-verify');
const project = 'tingfeng-verify';
const netnsName = 'tingfeng-verify';
const socketPath = `/run/${netnsName}/podman.sock`;
const timeoutMs = Number(process.env.CONTAINERS_VERIFY_TIMEOUT_S ?? 600) * 1000;
// docker-compose.yml has no default credential: this run makes its own, fresh each time.
const secret = () => randomBytes(16).toString('hex');
const analystToken = secret();
const credentials = {
  TINGFENG_API_TOKENS: `${analystToken}:analyst:verify-analyst,${secret()}:admin:verify-admin`,
  TINGFENG_INGEST_TOKENS: secret(),
  TINGFENG_WEBHOOK_SECRET: secret(),
  TINGFENG_POSTGRES_PASSWORD: secret(),
};

const { values: opts } = parseArgs({
  options: {
    'in-netns': { type: 'boolean', default: false },
    'skip-images': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'if-changed': { type: 'boolean', default: false },
  },
});

// --- what the run depends on --------------------------------------------------------------------------------

/**
 * What CI compares a submission with (`--if-changed`): the commit the last passing `.ci/run` on this machine checked
 * (it landed), which `.ci/run` writes here once everything passed; TINGFENG_CI_BASE overrides it.
 */
const landedRecord = join(process.env.TINGFENG_IMAGE_CACHE_DIR ?? '/var/cache/tingfeng-images', 'ci-landed-commit');
/** With no landed commit known, the submission is taken to be the commits of this long (a session lasts 3 h). */
const SUBMISSION_WINDOW = '4.hours';

/** The files the images and the stack are made from, and this check itself. */
const INPUTS = ['infra', 'docker-compose.yml', 'tsconfig.build.json', '.dockerignore', 'scripts/containers-verify.ts'];

const git = (args: string[]) => spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });

/** Why this run should go ahead under --if-changed (the container files changed in the submission), or undefined. */
function reasonToRun(): string | undefined {
  const recorded = existsSync(landedRecord) ? readFileSync(landedRecord, 'utf8').trim() : '';
  const base = process.env.TINGFENG_CI_BASE || recorded;
  if (base) {
    // The base must be an ancestor of HEAD (a landing fast-forwards main): otherwise it says nothing about this tree.
    if (git(['merge-base', '--is-ancestor', base, 'HEAD']).status === 0) {
      const diff = git(['diff', '--name-only', base, 'HEAD', '--', ...INPUTS]);
      if (diff.status !== 0) return `git diff against ${base.slice(0, 12)} failed`;
      const files = diff.stdout.trim().split('\n').filter(Boolean);
      return files.length > 0 ? `${files.length} container file(s) changed since ${base.slice(0, 12)} (${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''})` : undefined;
    }
    say(`containers:verify --if-changed: ${base.slice(0, 12)} is not an ancestor of HEAD; the submission is the commits of the last ${SUBMISSION_WINDOW}`);
  }
  const log = git(['log', `--since=${SUBMISSION_WINDOW}`, '--format=%h', '--', ...INPUTS]);
  if (log.status !== 0) return 'git log failed';
  const commits = log.stdout.trim().split('\n').filter(Boolean);
  return commits.length > 0 ? `no landed commit recorded, and ${commits.length} commit(s) of the last ${SUBMISSION_WINDOW} changed the container files` : undefined;
}

/** How podman runs here (see infra/docker/local/podman-env.sh); compose talks to the podman service's socket. */
const podmanEnv: NodeJS.ProcessEnv = {
  ...process.env,
  CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(localDir, 'containers.conf'),
  BUILDAH_ISOLATION: 'chroot',
  DOCKER_HOST: `unix://${socketPath}`,
  COMPOSE_PROJECT_NAME: project,
  TINGFENG_TAG: process.env.TINGFENG_TAG ?? 'dev',
  ...credentials,
};

// --- output -------------------------------------------------------------------------------------------------

const say = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

class VerifyError extends Error {
  override name = 'VerifyError';
}

interface StepRecord {
  name: string;
  ms: number;
  ok: boolean;
}
const steps: StepRecord[] = [];

async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  say(`\n==> ${name}`);
  const started = Date.now();
  try {
    const value = await fn();
    steps.push({ name, ms: Date.now() - started, ok: true });
    say(`    ✓ ${name} (${seconds(Date.now() - started)})`);
    return value;
  } catch (err) {
    steps.push({ name, ms: Date.now() - started, ok: false });
    say(`    ✗ ${name} (${seconds(Date.now() - started)}): ${(err as Error).message}`);
    throw err;
  }
}

// --- processes ----------------------------------------------------------------------------------------------

interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(command, args, { env: podmanEnv, cwd: repoRoot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

function must(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = run(command, args, options);
  if (r.status !== 0) throw new VerifyError(`${command} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}`);
  return r.stdout;
}

/** Runs a command asynchronously, its output streamed into a log file (`tail -f` it); resolves with its exit status. */
function runLogged(command: string, args: string[], logFile: string, env = podmanEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn(command, args, { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('error', reject);
    // 'close', not 'exit': both pipes are drained by then.
    child.once('close', (code) => out.end(() => resolve(code ?? 1)));
  });
}

const tail = (file: string, lines = 25) => (existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, limitMs = timeoutMs, everyMs = 2500): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new VerifyError(`timed out after ${seconds(limitMs)} waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

// --- compose ------------------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  healthcheck?: { test?: string[]; interval?: string };
  profiles?: string[];
  restart?: string;
}

/** docker-compose.yml as compose resolves it (variables substituted, merge keys applied) with the demo profile. */
function composeConfig(): Record<string, ComposeService> {
  const text = must('docker-compose', ['--profile', 'demo', 'config']);
  return (parse(text) as { services: Record<string, ComposeService> }).services;
}

const compose = (args: string[]) => ['--profile', 'demo', ...args];

/** Docker's reading of an image name: a name without a registry is on docker.io (as the compat API resolves it). */
function qualified(image: string): string {
  const first = image.split('/')[0]!;
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return image;
  return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
}

function imageSizeMb(image: string): number {
  return Number(must('podman', ['image', 'inspect', '--format', '{{.Size}}', image]).trim()) / 1e6;
}

// --- phase 1: images (on the host network: builds fetch from the package registries) -------------------------

interface ImageRecord {
  service: string;
  image: string;
  buildMs: number;
  sizeMb: number;
}

async function buildImages(services: Record<string, ComposeService>): Promise<ImageRecord[]> {
  const records: ImageRecord[] = [];
  const built = new Map<string, ImageRecord>();
  // In compose order; the first build pays for the shared build stage (install, compile), the others reuse it.
  for (const [service, spec] of Object.entries(services)) {
    if (!spec.build || !spec.image) continue;
    const image = qualified(spec.image);
    const key = `${spec.build.dockerfile}@${image}`;
    if (built.has(key)) continue;
    const log = join(workDir, `build-${service}.log`);
    const started = Date.now();
    const status = await runLogged(
      'podman',
      ['build', '--format', 'docker', '--network', 'host', '--layers', '-f', join(spec.build.context, spec.build.dockerfile), '-t', image, spec.build.context],
      log,
    );
    if (status !== 0) throw new VerifyError(`building ${image} from ${spec.build.dockerfile} failed:\n${tail(log)}\n(full log: ${log})`);
    const record = { service, image, buildMs: Date.now() - started, sizeMb: imageSizeMb(image) };
    built.set(key, record);
    records.push(record);
    say(`    ${image.padEnd(36)} ${seconds(record.buildMs).padStart(8)}  ${record.sizeMb.toFixed(0).padStart(5)} MB   (${spec.build.dockerfile})`);
  }
  return records;
}

// --- phase 2: the stack (inside the network namespace) ------------------------------------------------------

interface Container {
  id: string;
  service: string;
  name: string;
  running: boolean;
  healthy: boolean;
}

interface Inspect {
  Id: string;
  Name: string;
  RestartCount?: number;
  State: { Status: string; Running: boolean; ExitCode: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean; Health?: { Status: string } };
  Config: { Labels: Record<string, string> };
  NetworkSettings: { Networks?: Record<string, { IPAddress: string }> };
}

function containers(): Container[] {
  const out = must('podman', ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', 'json']);
  const list = JSON.parse(out || '[]') as { Id: string; Names: string[]; Labels: Record<string, string>; State: string; Status: string }[];
  return list.map((c) => ({
    id: c.Id,
    service: c.Labels['com.docker.compose.service'] ?? '?',
    name: c.Names[0] ?? c.Id,
    running: c.State === 'running',
    healthy: c.Status.includes('(healthy)'),
  }));
}

function inspect(id: string): Inspect | undefined {
  const r = run('podman', ['inspect', '--type', 'container', id]);
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as Inspect[])[0];
}

const durationMs = (value: string | undefined, fallbackMs: number) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value ?? '');
  return m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'] : fallbackMs;
};

/**
 * Runs each running container's health check at the interval compose gives it until it is healthy, then every 30 s.
 * podman schedules health checks with systemd timers; this machine has no systemd, so this loop does the engine's
 * part (`podman healthcheck run`). Each run is a `podman exec`, far dearer than Docker's on 2 cores, hence the
 * slower pace once healthy: it still notices a service that turns unhealthy.
 */
function startHealthDriver(services: Record<string, ComposeService>): () => void {
  const lastRunMs = new Map<string, number>();
  const inFlight = new Set<string>();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    for (const c of containers()) {
      const spec = services[c.service];
      if (!spec?.healthcheck?.test || inFlight.has(c.id)) continue;
      if (!c.running) continue;
      const everyMs = c.healthy ? 30_000 : durationMs(spec.healthcheck.interval, 30_000);
      if (Date.now() - (lastRunMs.get(c.id) ?? 0) < everyMs) continue;
      lastRunMs.set(c.id, Date.now());
      inFlight.add(c.id);
      const child = spawn('podman', ['healthcheck', 'run', c.id], { env: podmanEnv, stdio: 'ignore' });
      child.once('exit', () => inFlight.delete(c.id));
      child.once('error', () => inFlight.delete(c.id));
    }
  };
  // One `podman ps` a tick: podman commands are not cheap on a busy host.
  const timer = setInterval(tick, 2500);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

interface StartRecord {
  service: string;
  liveMs?: number;
  readyMs?: number;
}

/**
 * Measures each application service's start: from the container's start to the first 200 from /healthz (the process
 * is up) and from /readyz (connected and assigned), polled every 200 ms on the container's own address.
 */
function startProbes(services: Record<string, ComposeService>): { records: Map<string, StartRecord>; stop: () => void } {
  const records = new Map<string, StartRecord>();
  const targets = new Map<string, { port: number; address?: string; startedAtMs?: number }>();
  for (const [service, spec] of Object.entries(services)) {
    const port = /127\.0\.0\.1:(\d+)\/readyz/.exec((spec.healthcheck?.test ?? []).join(' '))?.[1];
    if (spec.build && port) {
      targets.set(service, { port: Number(port) });
      records.set(service, { service });
    }
  }
  let stopped = false;
  let lookedUpMs = 0;
  const loop = async () => {
    while (!stopped && [...records.values()].some((r) => r.readyMs === undefined)) {
      // One container listing every 2 s at most: podman is not cheap on a busy host.
      if ([...targets.values()].some((t) => !t.address) && Date.now() - lookedUpMs > 2000) {
        lookedUpMs = Date.now();
        for (const c of containers()) {
          const t = targets.get(c.service);
          if (!t || t.address) continue;
          const info = inspect(c.id);
          const address = Object.values(info?.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
          if (info?.State.Running && address) Object.assign(t, { address, startedAtMs: Date.parse(info.State.StartedAt) });
        }
      }
      await Promise.all(
        [...targets].map(async ([service, t]) => {
          const record = records.get(service)!;
          if (!t.address || record.readyMs !== undefined) return;
          for (const [path, key] of [['/healthz', 'liveMs'], ['/readyz', 'readyMs']] as const) {
            if (record[key] !== undefined) continue;
            try {
              const res = await fetch(`http://${t.address}:${t.port}${path}`, { signal: AbortSignal.timeout(1000) });
              if (res.ok) record[key] = Date.now() - t.startedAtMs!;
              // A service that listens only once connected (ingest) answers both at once: ready implies up.
              if (res.ok && key === 'readyMs') record.liveMs ??= record.readyMs;
            } catch {
              // not listening yet
            }
          }
        }),
      );
      await sleep(200);
    }
  };
  void loop();
  return {
    records,
    stop: () => {
      stopped = true;
    },
  };
}

/** True when the podman service answers Docker's `GET /_ping` on its socket. */
function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:3000${path}`, { headers: { authorization: `Bearer ${analystToken}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new VerifyError(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

interface IncidentDetail {
  id: string;
  key: string;
  type: string;
  severity: string;
  title: string;
  alerts: { type: string; severity: string; terms: string[] }[];
  timeline: { kind: string; at: string; data: { severity?: string; previousSeverity?: string } }[];
}

function saveLogs(): void {
  for (const c of containers()) {
    const r = run('podman', ['logs', c.id]);
    writeFileSync(join(workDir, `${c.service}.log`), r.stdout + r.stderr);
  }
}

async function stackPhase(): Promise<void> {
  mkdirSync(workDir, { recursive: true });
  const services = composeConfig();
  let podmanService: ChildProcess | undefined;
  let stopHealth = () => {};
  let probes: ReturnType<typeof startProbes> | undefined;
  let healthy = false;
  try {
    await step('podman API service in the namespace', async () => {
      must('ip', ['link', 'set', 'lo', 'up']);
      mkdirSync(`/run/${netnsName}`, { recursive: true });
      rmSync(socketPath, { force: true });
      podmanService = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { env: podmanEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      const errors: string[] = [];
      podmanService.stderr?.on('data', (b: Buffer) => errors.push(b.toString()));
      await eventually('the podman socket', async () => ((await ping()) ? true : undefined), 30_000, 300);
      // Leftovers of an interrupted run (containers, volumes, network) go first.
      run('docker-compose', compose(['down', '--volumes', '--remove-orphans', '--timeout', '5']));
      say(`    podman ${must('podman', ['version', '--format', '{{.Server.Version}}']).trim()}, docker-compose ${must('docker-compose', ['version', '--short']).trim()}, socket ${socketPath}`);
    });

    stopHealth = startHealthDriver(services);
    probes = startProbes(services);
    await step('docker-compose --profile demo up -d (waits for each dependency to be healthy)', async () => {
      const log = join(workDir, 'compose-up.log');
      const up = runLogged('docker-compose', compose(['up', '-d', '--no-build']), log);
      const status = await Promise.race([up, sleep(timeoutMs).then(() => -1)]);
      if (status !== 0) throw new VerifyError(`compose up ${status === -1 ? 'timed out' : `exited ${status}`}:\n${tail(log)}`);
    });

    await step('every long-running service healthy', async () => {
      const longRunning = Object.entries(services).filter(([, s]) => s.healthcheck?.test && s.restart !== 'no');
      await eventually(
        'every service healthy',
        async () => {
          const byService = new Map(containers().map((c) => [c.service, c]));
          const waiting = longRunning.filter(([name]) => !byService.get(name)?.healthy).map(([name]) => name);
          return waiting.length === 0 ? true : undefined;
        },
        timeoutMs,
      );
      healthy = true;
      const measured = () => [...probes!.records.values()].every((r) => r.readyMs !== undefined);
      await eventually('every start measured', async () => (measured() ? true : undefined), 15_000, 200).catch(() => undefined);
      probes!.stop();
      const shown = (ms: number | undefined) => (ms === undefined ? 'not seen' : seconds(ms)).padStart(8);
      for (const r of [...probes!.records.values()].sort((a, b) => a.service.localeCompare(b.service))) {
        say(`    ${r.service.padEnd(18)} process up ${shown(r.liveMs)}   ready ${shown(r.readyMs)}   after its container started`);
      }
    });

    await step('demo replay through the containers (compose service `replay`)', async () => {
      const info = await eventually(
        'the replay container to finish',
        async () => {
          const c = containers().find((x) => x.service === 'replay');
          const i = c && inspect(c.id);
          return i && !i.State.Running && i.State.FinishedAt && !i.State.FinishedAt.startsWith('0001') ? i : undefined;
        },
        timeoutMs,
      );
      const logs = run('podman', ['logs', info.Id]);
      say(
        (logs.stdout + logs.stderr)
          .trimEnd()
          .split('\n')
          .filter((l) => l.startsWith('replay:'))
          .map((l) => `    ${l}`)
          .join('\n'),
      );
      if (info.State.ExitCode !== 0) throw new VerifyError(`replay exited ${info.State.ExitCode}:\n${logs.stdout}${logs.stderr}`);
    });

    const incident = await step('the dying-city incident on the API: critical, with cascade, story and response alerts', async () => {
      let lastReportMs = Date.now();
      const found = await eventually(
        'a critical incident with cascade, story and response alerts',
        async () => {
          const list = await api<{ items: { id: string }[] }>('/api/incidents?type=cascade');
          for (const item of list.items) {
            const detail = await api<IncidentDetail>(`/api/incidents/${item.id}`);
            const types = new Set(detail.alerts.map((a) => a.type));
            // Critical too: an incident that opened lower may still be on its way up.
            if (types.has('cascade') && types.has('story') && types.has('response') && detail.severity === 'critical') return detail;
          }
          if (Date.now() - lastReportMs > 30_000) {
            lastReportMs = Date.now();
            const all = await api<{ items: { type: string }[]; total: number }>('/api/incidents?limit=100');
            say(`    … ${all.total} incidents so far (${[...new Set(all.items.map((i) => i.type))].join(', ') || 'none'}); the pipeline is still working through the replay`);
          }
          return undefined;
        },
        timeoutMs,
        2000,
      );
      // The cascade detector calls as its forecast firms up (packages/detect README: `info`, then `warning` or
      // `critical`), so the incident may open below critical; then its timeline must show the raise to critical.
      const opened = found.timeline.find((e) => e.kind === 'opened');
      const raised = found.timeline.find((e) => e.kind === 'alert_appended' && e.data.previousSeverity !== undefined && e.data.severity === 'critical');
      const problems = [
        opened ? '' : 'no opened event',
        opened?.data.severity === 'critical' || raised ? '' : `it opened at ${opened?.data.severity} and no alert raised it to critical`,
        found.severity === 'critical' ? '' : `its severity is ${found.severity}`,
        found.alerts.some((a) => a.type === 'cascade' && a.severity === 'critical') ? '' : 'no cascade alert is critical',
        found.alerts.some((a) => a.terms.includes('死去')) ? '' : 'no alert carries the term 死去',
      ].filter(Boolean);
      if (problems.length > 0) throw new VerifyError(`incident ${found.id} (${found.title}): ${problems.join('; ')}`);
      const counts = [...new Set(found.alerts.map((a) => a.type))].map((t) => `${found.alerts.filter((a) => a.type === t).length} ${t}`);
      say(`    ${found.id} [${found.severity}] ${found.title}: ${counts.join(', ')}`);
      say(`    opened at ${opened!.data.severity}${raised && opened!.data.severity !== 'critical' ? `, raised ${raised.data.previousSeverity} → critical after ${seconds(Date.parse(raised.at) - Date.parse(opened!.at))}` : ''}`);
      return found;
    });

    await step('a signed notification about it reached the webhook receiver', async () => {
      const line = await eventually(
        'a verified notification naming the incident',
        async () => {
          const c = containers().find((x) => x.service === 'webhook-receiver');
          const logs = c ? run('podman', ['logs', c.id]).stdout : '';
          return logs.split('\n').find((l) => l.includes('✓签名') && l.includes(incident.id));
        },
        300_000,
        2000,
      );
      const detail = await api<IncidentDetail>(`/api/incidents/${incident.id}`);
      if (!detail.timeline.some((e) => e.kind === 'notified')) throw new VerifyError('the incident timeline has no `notified` event');
      say(`    ${line.trim()}`);
    });

    await step('docker-compose stop (SIGTERM, then each service has its stop_grace_period)', async () => {
      stopHealth();
      saveLogs();
      const log = join(workDir, 'compose-stop.log');
      const status = await runLogged('docker-compose', compose(['stop']), log);
      if (status !== 0) throw new VerifyError(`compose stop exited ${status}:\n${tail(log)}`);
    });

    await step('every container exited 0', async () => {
      const bad: string[] = [];
      for (const c of containers()) {
        const i = inspect(c.id)!;
        const stopMs = Date.parse(i.State.FinishedAt) - Date.parse(i.State.StartedAt);
        const restarts = i.RestartCount ?? 0;
        say(`    ${c.service.padEnd(18)} exit ${String(i.State.ExitCode).padStart(3)}   ran ${seconds(stopMs).padStart(8)}${restarts ? `   restarted ${restarts}×` : ''}`);
        if (i.State.ExitCode !== 0 || i.State.OOMKilled) bad.push(`${c.service} exited ${i.State.ExitCode}${i.State.OOMKilled ? ' (OOM)' : ''}`);
        if (restarts > 0) bad.push(`${c.service} restarted ${restarts} times`);
      }
      if (bad.length > 0) throw new VerifyError(bad.join('; '));
    });
  } catch (err) {
    saveLogs();
    for (const c of containers()) {
      const i = inspect(c.id);
      if (!i || (i.State.Health?.Status === 'healthy' && i.State.ExitCode === 0)) continue;
      say(`\n--- ${c.service} (${i.State.Status}, health ${i.State.Health?.Status ?? '-'}, exit ${i.State.ExitCode}): last lines of ${join(workDir, `${c.service}.log`)}`);
      say(tail(join(workDir, `${c.service}.log`), 15));
    }
    if (!healthy) say(`\n(compose output: ${join(workDir, 'compose-up.log')})`);
    throw err;
  } finally {
    stopHealth();
    probes?.stop();
    if (!opts.keep) {
      await step('docker-compose down --volumes (containers, network, volumes removed)', async () => {
        const status = await runLogged('docker-compose', compose(['down', '--volumes', '--remove-orphans', '--timeout', '35']), join(workDir, 'compose-down.log'));
        if (status !== 0) throw new VerifyError(`compose down exited ${status}`);
      }).catch(() => undefined);
      podmanService?.kill('SIGTERM');
    } else {
      say(`\n--keep: the stack is left up in network namespace ${netnsName} (podman socket ${socketPath}).`);
      podmanService?.unref();
    }
  }
}

// --- the whole run ------------------------------------------------------------------------------------------

function summary(title: string): void {
  say(`\n──────── ${title} ────────`);
  for (const s of steps) say(`${s.ok ? '✓' : '✗'} ${seconds(s.ms).padStart(8)}  ${s.name}`);
}

async function main(): Promise<void> {
  if (opts['in-netns']) {
    try {
      await stackPhase();
    } finally {
      summary('stack phase');
    }
    return;
  }
  if (process.getuid?.() !== 0) throw new VerifyError('run as root: podman runs rootful here, and the network namespace needs it');
  if (opts['if-changed']) {
    const reason = reasonToRun();
    if (reason === undefined) {
      say(`containers:verify --if-changed: the container files (${INPUTS.join(', ')}) did not change in the submission; not run`);
      process.exit(0);
    }
    say(`containers:verify --if-changed: running, because ${reason}`);
  }
  mkdirSync(workDir, { recursive: true });
  const started = Date.now();
  try {
    if (!opts['skip-images']) {
      await step('base images (infra/docker/local/images.sh: cached unless their recipe changed)', async () => {
        const r = spawnSync('bash', [join(localDir, 'images.sh')], { env: podmanEnv, stdio: 'inherit' });
        if (r.status !== 0) throw new VerifyError(`images.sh exited ${r.status}`);
      });
    } else {
      spawnSync('bash', [join(localDir, 'images.sh'), '--tools-only'], { env: podmanEnv, stdio: 'inherit' });
    }
    const services = composeConfig();
    if (!opts['skip-images']) {
      await step('service images from the unchanged Dockerfiles (podman build, one after another, layers shared)', () => buildImages(services));
    }
    await step(`network namespace ${netnsName}`, async () => {
      run('ip', ['netns', 'delete', netnsName]);
      must('ip', ['netns', 'add', netnsName]);
    });
    let code = 1;
    try {
      const child = spawnSync('nsenter', [`--net=/run/netns/${netnsName}`, '--', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--in-netns', ...(opts.keep ? ['--keep'] : [])], {
        env: podmanEnv,
        stdio: 'inherit',
      });
      code = child.status ?? 1;
    } finally {
      if (!opts.keep) run('ip', ['netns', 'delete', netnsName]);
    }
    if (code !== 0) throw new VerifyError(`the stack phase failed (exit ${code}); logs in ${workDir}`);
  } finally {
    summary(`containers:verify, ${seconds(Date.now() - started)} in all`);
  }
}

main()
  .then(() => {
    say('\ncontainers:verify passed');
    process.exit(0);
  })
  .catch((err: unknown) => {
    process.stderr.write(`\ncontainers:verify failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
