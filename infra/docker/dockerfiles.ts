/**
 * One source for every service image: the Dockerfiles under infra/docker/ are rendered from the services' own config
 * schemas (port variable and its default, listen-address variable), so an image cannot drift from the code it runs.
 * Regenerate with `node --import tsx infra/docker/generate.ts`; test/ops/containers.test.ts fails when a file is stale.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const NODE_IMAGE = 'node:20-bookworm-slim';
export const PNPM_VERSION = '12.4.2';

/** What the image of one service needs to know about it, read from its code. */
export interface ServiceFacts {
  /** Directory name under services/. */
  dir: string;
  /** The package name, `@tingfeng/<dir>`. */
  packageName: string;
  /** Every environment variable the service's settings schema declares. */
  variables: string[];
  /** The setting that holds the listening port (the one key ending in `_PORT`). */
  portVariable: string;
  /** Its default. */
  defaultPort: number;
  /** A `*_HOST` setting whose default binds loopback only; an image sets it to 0.0.0.0. */
  hostVariable: string | undefined;
  /** `/healthz` when the service answers it, undefined for a plain TCP check. */
  healthPath: string | undefined;
}

export function serviceDirs(): string[] {
  const root = join(REPO_ROOT, 'services');
  return readdirSync(root)
    .filter((d) => statSync(join(root, d)).isDirectory() && statSync(join(root, d, 'package.json'), { throwIfNoEntry: false }))
    .sort();
}

/** The part of a zod object schema read here (the root package does not depend on zod). */
interface AnyObjectSchema {
  shape: Record<string, unknown>;
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { message: string } };
}

function isObjectSchema(value: unknown): value is AnyObjectSchema {
  return typeof value === 'object' && value !== null && 'shape' in value && 'safeParse' in value;
}

/** The settings schema a service's src/config.ts exports (the one exported zod object named `*ConfigSchema`). */
export async function loadConfigSchema(dir: string): Promise<AnyObjectSchema> {
  const mod = (await import(pathToFileURL(join(REPO_ROOT, 'services', dir, 'src', 'config.ts')).href)) as Record<string, unknown>;
  const found = Object.entries(mod).filter(([name, value]) => name.endsWith('ConfigSchema') && isObjectSchema(value));
  if (found.length !== 1) throw new Error(`services/${dir}/src/config.ts must export exactly one *ConfigSchema zod object (found ${found.length})`);
  return found[0]![1] as AnyObjectSchema;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** True when the service's code (or the shared ops server it uses) answers `GET <path>`. */
export function servesPath(dir: string, path: string): boolean {
  const sources = sourceFiles(join(REPO_ROOT, 'services', dir, 'src')).map((f) => readFileSync(f, 'utf8'));
  if (sources.some((s) => s.includes(`'${path}'`))) return true;
  const opsServer = readFileSync(join(REPO_ROOT, 'packages', 'metrics', 'src', 'index.ts'), 'utf8');
  return sources.some((s) => s.includes('startOpsServer(')) && opsServer.includes(`'${path}'`);
}

export async function serviceFacts(dir: string): Promise<ServiceFacts> {
  const schema = await loadConfigSchema(dir);
  const variables = Object.keys(schema.shape);
  const ports = variables.filter((v) => v.endsWith('_PORT'));
  if (ports.length !== 1) throw new Error(`services/${dir}: expected one *_PORT setting, found ${ports.join(', ') || 'none'}`);
  const portVariable = ports[0]!;
  const defaults = schema.safeParse({});
  if (!defaults.success) throw new Error(`services/${dir}: settings have no defaults to read (${defaults.error.message})`);
  const values = defaults.data as Record<string, unknown>;
  const defaultPort = values[portVariable];
  if (typeof defaultPort !== 'number' || defaultPort <= 0) throw new Error(`services/${dir}: ${portVariable} has no fixed default`);
  const hostVariable = variables.find((v) => v.endsWith('_HOST') && values[v] === '127.0.0.1');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'services', dir, 'package.json'), 'utf8')) as { name: string };
  return {
    dir,
    packageName: pkg.name,
    variables,
    portVariable,
    defaultPort,
    hostVariable,
    healthPath: servesPath(dir, '/healthz') ? '/healthz' : undefined,
  };
}

/** The container's health command: an HTTP GET with Node's fetch (the slim image has no curl), or a TCP connect. */
export function healthCommand(f: Pick<ServiceFacts, 'portVariable' | 'defaultPort'>, path: string | undefined): string[] {
  const port = `(process.env.${f.portVariable}||${f.defaultPort})`;
  const script =
    path === undefined
      ? `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`
      : `fetch('http://127.0.0.1:'+${port}+'${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
  return ['node', '-e', script];
}

/** The pnpm store lives in a build cache mount: shared by every image build, kept between builds, never in a layer. */
const STORE = '/pnpm/store';
const storeMount = `--mount=type=cache,id=tingfeng-pnpm-store,target=${STORE}`;

/**
 * The build stage every image starts with, word for word the same in each Dockerfile: building the images one after
 * another (or all at once with compose) installs and compiles the workspace once, and the later images reuse those
 * layers from the build cache. Installs every dependency of the workspace and compiles each package to dist/.
 */
function buildStage(): string {
  return `FROM ${NODE_IMAGE} AS build
# nodejieba is compiled from source (patches/nodejieba@3.5.8.patch): the toolchain stays in this stage.
RUN apt-get update \\
 && apt-get install -y --no-install-recommends python3 make g++ \\
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@${PNPM_VERSION}
WORKDIR /repo
# The download layer depends on the lockfile alone, so source edits reuse it; --prefer-offline below still fetches
# whatever a cleared cache mount lost.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY patches ./patches
RUN ${storeMount} pnpm fetch --store-dir ${STORE}
COPY . .
RUN ${storeMount} pnpm install --frozen-lockfile --prefer-offline --store-dir ${STORE}
# TypeScript to JavaScript (src/x.ts → dist/x.js in every package); exports point at dist/ from here on.
RUN node infra/docker/compile.mjs --exports-to-dist`;
}

export function renderDockerfile(f: ServiceFacts): string {
  const health = JSON.stringify(healthCommand(f, f.healthPath));
  return `# syntax=docker/dockerfile:1
# ${f.packageName}. Generated by infra/docker/generate.ts from the service's config schema: edit that script, not this file.
# Build from the repository root: docker build -f infra/docker/${f.dir}.Dockerfile -t tingfeng/${f.dir} .

${buildStage()}
# Production dependencies and compiled code only: no TypeScript sources, no TypeScript loader.
RUN ${storeMount} pnpm deploy --filter ${f.packageName} --prod --prefer-offline --store-dir ${STORE} /out \\
 && rm -rf /out/src /out/pnpm-lock.yaml /out/pnpm-workspace.yaml \\
 && find /out/node_modules/.pnpm -path '*/node_modules/@tingfeng/*/src' -prune -exec rm -rf {} +

FROM ${NODE_IMAGE}
ENV NODE_ENV=production${f.hostVariable ? ` \\\n    ${f.hostVariable}=0.0.0.0` : ''}
WORKDIR /app
# Owned by root and only read by the process: the code cannot be changed from inside the container.
COPY --from=build /out ./
USER node
EXPOSE ${f.defaultPort}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\
  CMD ${health}
STOPSIGNAL SIGTERM
CMD ${JSON.stringify(SERVICE_COMMAND).replaceAll(',', ', ')}
`;
}

/** What every service image runs (its working directory is the deployed service package). */
export const SERVICE_COMMAND = ['node', 'dist/main.js'] as const;

/** The workspace's command-line tools (replay, backtest, analyze) on the same build stage as the services. */
export function renderToolsDockerfile(): string {
  return `# syntax=docker/dockerfile:1
# The workspace's command-line tools (replay, backtest, analyze) with all their dependencies: the compose \`demo\`
# profile replays the bundled scenario with it. Not a production image: it keeps dev dependencies and the scripts'
# TypeScript, run with tsx; the workspace packages they import are the compiled ones.
# Generated by infra/docker/generate.ts: edit that script, not this file.
# Build from the repository root: docker build -f infra/docker/tools.Dockerfile -t tingfeng/tools .

${buildStage()}

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Same path as in the build stage: pnpm's node_modules links are relative to it.
WORKDIR /repo
COPY --from=build /repo ./
USER node
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["scripts/replay.ts", "--help"]
`;
}

export function dockerfilePath(dir: string): string {
  return join(REPO_ROOT, 'infra', 'docker', `${dir}.Dockerfile`);
}
