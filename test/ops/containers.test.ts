/**
 * The container files agree with the code, checked without a Docker engine: every workspace service has an image and
 * a compose service; every variable compose sets is a setting the service declares; every COPY source exists and is
 * in the build context; ports and health paths are the ones the services really use.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dockerfilePath,
  NODE_IMAGE,
  PNPM_VERSION,
  renderDockerfile,
  renderToolsDockerfile,
  SERVICE_COMMAND,
  serviceDirs,
  serviceFacts,
  servesPath,
  type ServiceFacts,
} from '../../infra/docker/dockerfiles.js';
import {
  composeEnvironment,
  containerPorts,
  copySources,
  dockerIgnored,
  durationMs,
  execForm,
  healthTarget,
  parseDockerfile,
  PROCESS_VARIABLES,
  readCompose,
  REPO_ROOT,
  type ComposeFile,
} from './ops-files.js';
import { render, type K8sObject } from './kustomize.js';

/** The parts of a rendered Deployment the security check reads. */
interface PodOwner extends K8sObject {
  spec: {
    template: {
      spec: {
        securityContext?: Record<string, unknown>;
        containers: { name: string; securityContext?: Record<string, unknown>; volumeMounts?: { mountPath: string }[] }[];
      };
    };
  };
}

const services = serviceDirs();
const facts = new Map<string, ServiceFacts>();
let compose: ComposeFile;

beforeAll(async () => {
  for (const dir of services) facts.set(dir, await serviceFacts(dir));
  compose = readCompose();
});

function factsOf(dir: string): ServiceFacts {
  const f = facts.get(dir);
  if (!f) throw new Error(`no facts for ${dir}`);
  return f;
}

const dockerfiles = readdirSync(join(REPO_ROOT, 'infra', 'docker')).filter((f) => f.endsWith('.Dockerfile'));

describe('workspace services and images', () => {
  it('finds the services', () => {
    expect(services).toEqual(expect.arrayContaining(['analyzer', 'detector', 'ingest']));
  });

  it.each(services)('%s has its own Dockerfile and a compose service built from it', (dir) => {
    expect(existsSync(dockerfilePath(dir)), `infra/docker/${dir}.Dockerfile`).toBe(true);
    const service = compose.services[dir];
    expect(service, `docker-compose.yml services.${dir}`).toBeDefined();
    expect(service!.build?.dockerfile).toBe(`infra/docker/${dir}.Dockerfile`);
    expect(service!.build?.context).toBe('.');
  });

  it('has no image for a service that no longer exists', () => {
    const orphans = dockerfiles.map((f) => f.replace(/\.Dockerfile$/, '')).filter((name) => name !== 'tools' && !services.includes(name));
    expect(orphans).toEqual([]);
  });

  it.each(services)('%s: its Dockerfile is what infra/docker/generate.ts renders from the code (run it after a settings change)', (dir) => {
    expect(readFileSync(dockerfilePath(dir), 'utf8')).toBe(renderDockerfile(factsOf(dir)));
  });

  it('tools.Dockerfile is what infra/docker/generate.ts renders', () => {
    expect(readFileSync(join(REPO_ROOT, 'infra', 'docker', 'tools.Dockerfile'), 'utf8')).toBe(renderToolsDockerfile());
  });

  it.each(services)('%s runs compiled JavaScript: src/main.ts is compiled to dist/main.js and tsx is no production dependency', (dir) => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'services', dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(pkg.dependencies?.tsx, `services/${dir}/package.json: tsx belongs in devDependencies`).toBeUndefined();
    expect(existsSync(join(REPO_ROOT, 'services', dir, 'src', 'main.ts'))).toBe(true);
    const build = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    expect(build.include).toContain('services/*/src/**/*.ts');
  });
});

describe.each(dockerfiles)('%s', (file) => {
  const text = readFileSync(join(REPO_ROOT, 'infra', 'docker', file), 'utf8');
  const instructions = parseDockerfile(text);
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  const finalStage = instructions.slice(instructions.indexOf(froms[froms.length - 1]!));
  const service = file.replace(/\.Dockerfile$/, '');

  it('is multi-stage on the pinned Node image and installs the pinned pnpm', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args.split(/\s+/)[0]).toBe(NODE_IMAGE);
    const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string };
    expect(root.packageManager).toBe(`pnpm@${PNPM_VERSION}`);
    expect(text).toContain(`npm install -g pnpm@${PNPM_VERSION}`);
    expect(text).toContain('--frozen-lockfile');
  });

  it('copies only sources that exist and that the build context keeps', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
      const sources = copySources(copy.args);
      if (sources === undefined) continue;
      expect(sources.length, `line ${copy.line}`).toBeGreaterThan(0);
      for (const source of sources) {
        expect(existsSync(join(REPO_ROOT, source)), `line ${copy.line}: ${source} exists`).toBe(true);
        if (source !== '.') expect(dockerIgnored(source), `line ${copy.line}: ${source} is not in .dockerignore`).toBe(false);
      }
    }
  });

  it('keeps what the build needs in the context', () => {
    for (const needed of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'patches/nodejieba@3.5.8.patch', 'packages/text/dict']) {
      expect(dockerIgnored(needed), `${needed} must reach the build`).toBe(false);
    }
    expect(dockerIgnored('services/analyzer/node_modules')).toBe(true);
  });

  it('runs as the non-root node user in the final stage', () => {
    const users = finalStage.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.at(-1)).toBe('node');
  });

  if (service === 'tools') return;

  it('has the build toolchain only in the build stage and production dependencies only in the image', () => {
    expect(text).toMatch(/pnpm deploy .*--prod/);
    expect(finalStage.some((i) => i.keyword === 'RUN' && /apt-get|g\+\+/.test(i.args))).toBe(false);
    expect(finalStage.filter((i) => i.keyword === 'COPY').every((i) => i.args.includes('--from=build'))).toBe(true);
  });

  it('exposes the port the service listens on by default', () => {
    const f = factsOf(service);
    const exposed = finalStage.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
    expect(exposed).toEqual([f.defaultPort]);
  });

  it('starts the compiled service with plain node and checks its health on the right port and path', () => {
    const f = factsOf(service);
    const cmd = finalStage.find((i) => i.keyword === 'CMD');
    expect(execForm(cmd!.args)).toEqual([...SERVICE_COMMAND]);
    expect(text).toContain('RUN node infra/docker/compile.mjs --exports-to-dist');
    const health = finalStage.find((i) => i.keyword === 'HEALTHCHECK');
    expect(health, 'HEALTHCHECK').toBeDefined();
    const target = healthTarget(execForm(health!.args.slice(health!.args.indexOf('CMD ') + 4)));
    expect(target?.port).toBe(f.defaultPort);
    expect(health!.args).toContain(`process.env.${f.portVariable}`);
    if (target?.path !== undefined) expect(servesPath(service, target.path), `${service} serves ${target.path}`).toBe(true);
    else expect(servesPath(service, '/healthz'), `${service} has /healthz: use it instead of a TCP check`).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  it('keeps Kafka on the local broker version and Redis durable with no eviction', () => {
    const script = readFileSync(join(REPO_ROOT, 'infra', 'kafka', 'kafka.sh'), 'utf8');
    const version = /KAFKA_VERSION[^0-9]*(\d+\.\d+\.\d+)/.exec(script)?.[1];
    expect(version, 'the Kafka version in infra/kafka/kafka.sh').toBeDefined();
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${version}`);
    const redis = compose.services.redis?.command;
    const args = Array.isArray(redis) ? redis.join(' ') : String(redis);
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
  });

  it('sets no process variable that no code reads', () => {
    const logger = readFileSync(join(REPO_ROOT, 'packages', 'logger', 'src', 'index.ts'), 'utf8');
    expect(logger).toContain('process.env.LOG_LEVEL');
    expect(PROCESS_VARIABLES).toContain('LOG_LEVEL');
  });

  it.each(services)('%s: every variable it sets is declared in the service config schema', (dir) => {
    const declared = new Set<string>([...factsOf(dir).variables, ...PROCESS_VARIABLES]);
    const undeclared = Object.keys(composeEnvironment(compose.services[dir]!)).filter((v) => !declared.has(v));
    expect(undeclared, `set in compose for ${dir} but not in services/${dir}/src/config.ts`).toEqual([]);
  });

  it.each(services)('%s: listens on every interface in a container and publishes or exposes its real port', (dir) => {
    const f = factsOf(dir);
    const service = compose.services[dir]!;
    const env = composeEnvironment(service);
    const port = env[f.portVariable] !== undefined ? Number(env[f.portVariable]) : f.defaultPort;
    const ports = containerPorts(service);
    expect(ports.length, `${dir} publishes or exposes a port`).toBeGreaterThan(0);
    for (const p of ports) expect(p, `${dir} container port`).toBe(port);
    if (f.hostVariable) expect(env[f.hostVariable], `${dir} must set ${f.hostVariable}=0.0.0.0 or nothing reaches it`).toBe('0.0.0.0');
  });

  it.each(services)('%s: its healthcheck asks a path the service serves, on its port', (dir) => {
    const f = factsOf(dir);
    const test = compose.services[dir]!.healthcheck?.test;
    expect(Array.isArray(test) && test[0] === 'CMD', `${dir} healthcheck in exec form`).toBe(true);
    const target = healthTarget((test as string[]).slice(1));
    expect(target?.port).toBe(f.defaultPort);
    if (target?.path !== undefined) expect(servesPath(dir, target.path), `${dir} serves ${target.path}`).toBe(true);
    else expect(servesPath(dir, '/readyz'), `${dir} has /readyz: use it`).toBe(false);
  });

  it.each(services)('%s: compose waits longer than its graceful stop deadline before SIGKILL', (dir) => {
    const f = factsOf(dir);
    if (!f.variables.includes('SHUTDOWN_GRACE_MS')) return;
    const service = compose.services[dir]!;
    const env = composeEnvironment(service);
    const graceMs = env.SHUTDOWN_GRACE_MS !== undefined ? Number(env.SHUTDOWN_GRACE_MS) : 25_000;
    expect(service.stop_grace_period, `${dir} stop_grace_period`).toBeDefined();
    expect(durationMs(service.stop_grace_period!)).toBeGreaterThan(graceMs);
  });

  it("runs each application service as its Kubernetes pod does: uid 1000, read-only root, no capabilities, no privilege escalation, a /tmp of its own", () => {
    const objects = render(join(REPO_ROOT, 'infra', 'k8s', 'overlays', 'dev'));
    for (const dir of services) {
      const service = compose.services[dir]!;
      expect(service.user, `${dir} user`).toBe('1000:1000');
      expect(service.read_only, `${dir} read_only`).toBe(true);
      expect(service.cap_drop, `${dir} cap_drop`).toEqual(['ALL']);
      expect(service.security_opt, `${dir} security_opt`).toContain('no-new-privileges:true');
      expect([service.tmpfs].flat(), `${dir} tmpfs`).toContain('/tmp');
      const deployment = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata.name === dir) as PodOwner | undefined;
      expect(deployment, `a Deployment or StatefulSet ${dir} in the dev overlay`).toBeDefined();
      const pod = deployment!.spec.template.spec;
      const container = pod.containers.find((c) => c.name === dir);
      expect(pod.securityContext, `${dir} pod securityContext`).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
      expect(container?.securityContext, `${dir} container securityContext`).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container?.volumeMounts?.map((m) => m.mountPath), `${dir} mounts`).toContain('/tmp');
    }
  });

  it('orders start-up by health: every dependency exists and has a healthcheck when waited on', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const deps = Array.isArray(service.depends_on) ? Object.fromEntries(service.depends_on.map((d) => [d, {}])) : (service.depends_on ?? {});
      for (const [dep, spec] of Object.entries(deps)) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        if ((spec as { condition?: string }).condition === 'service_healthy') {
          expect(compose.services[dep]!.healthcheck, `${dep} (waited on by ${name}) has a healthcheck`).toBeDefined();
        }
      }
    }
  });

  it('replays the bundled demo file in the optional demo profile with a script that exists', () => {
    const replay = compose.services.replay;
    expect(replay?.profiles).toEqual(['demo']);
    expect(replay?.build?.dockerfile).toBe('infra/docker/tools.Dockerfile');
    const command = replay?.command as string[];
    expect(existsSync(join(REPO_ROOT, command[0]!))).toBe(true);
    const input = command[command.indexOf('--input') + 1]!;
    const mount = (replay?.volumes ?? []).map(String).find((v) => input.startsWith(v.split(':')[1]!));
    expect(mount, `the demo input ${input} is mounted`).toBeDefined();
    expect(mount!.split(':')[0]).toBe('./infra/demo');
  });

  it('mounts monitoring files that exist', () => {
    for (const name of ['prometheus', 'grafana']) {
      for (const volume of compose.services[name]?.volumes ?? []) {
        const source = String(volume).split(':')[0]!;
        expect(existsSync(join(REPO_ROOT, source)), `${name}: ${source}`).toBe(true);
      }
    }
  });
});
