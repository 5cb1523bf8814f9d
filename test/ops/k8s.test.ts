/**
 * infra/k8s rendered by kustomize (base and every overlay) and validated against the Kubernetes API schemas (kubernetes-models:
 * ajv validators compiled from the Kubernetes OpenAPI definitions), then checked against the code: settings each
 * service declares, its port, probe paths it serves, a stop deadline longer than its own, replicas within partitions.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_SPECS, TOPICS } from '@tingfeng/contracts';
import { serviceDirs, serviceFacts, servesPath, type ServiceFacts } from '../../infra/docker/dockerfiles.js';
import { modelPath, render, type K8sObject } from './kustomize.js';
import { PROCESS_VARIABLES, REPO_ROOT } from './ops-files.js';

const k8sRoot = join(REPO_ROOT, 'infra', 'k8s');
const targets = ['base', ...readdirSync(join(k8sRoot, 'overlays')).map((o) => `overlays/${o}`)];
const facts = new Map<string, ServiceFacts>();

beforeAll(async () => {
  for (const dir of serviceDirs()) facts.set(dir, await serviceFacts(dir));
});

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
}
interface Workload extends K8sObject {
  spec: { replicas?: number; strategy?: { type: string }; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

const workloads = (objects: K8sObject[]) => objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet');
/** The workloads that run this repository's images (not a third-party server such as the archive's PostgreSQL). */
const ownWorkloads = (objects: K8sObject[]) =>
  workloads(objects).filter((w) => w.spec.template.spec.containers.some((c) => /(^|\/)tingfeng\//.test(c.image)));
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const partitionsOf = (topic: string) => TOPIC_SPECS.find((s) => s.name === topic)!.partitions;

/**
 * kustomize wraps a Secret's base64 at 76 columns; the API server's decoder (Go's base64) skips the line breaks, the
 * schema's `byte` format does not, so they are removed before validation.
 */
function forValidation(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || typeof o.data !== 'object' || o.data === null) return o;
  return { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, String(v).replace(/\s+/g, '')])) };
}

function factsOf(name: string): ServiceFacts {
  const f = facts.get(name);
  if (!f) throw new Error(`workload ${name} is no service in services/`);
  return f;
}

describe.each(targets)('infra/k8s/%s', (target) => {
  const objects = render(join(k8sRoot, target));

  it('renders objects that validate against the Kubernetes schemas', async () => {
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) {
      const mod = (await import(modelPath(o))) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = mod[o.kind];
      expect(Model, `${o.apiVersion} ${o.kind} is a Kubernetes kind`).toBeDefined();
      expect(() => new Model!(forValidation(o)).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('has no field the Kubernetes API does not know (strict, as kubeconform -strict: TypeScript excess-property checks against the API types)', () => {
    // The schema validators above ignore unknown fields (a misspelt `readinesProbe` would pass); the API's types do not.
    const dir = join(REPO_ROOT, '.cache', 'k8s-strict');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${target.replace(/\//g, '-')}.ts`);
    const lines = objects.map((o, i) => `import type { I${o.kind} as T${i} } from '${modelPath(o)}';\nexport const o${i}: T${i} = ${JSON.stringify(forValidation(o))};`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
    expect(problems, 'fields the Kubernetes API types do not have').toEqual([]);
  }, 60_000);

  it('has one object per kind and name', () => {
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('runs every service but the demo webhook receiver', () => {
    const names = ownWorkloads(objects).map((w) => w.metadata.name);
    for (const dir of serviceDirs().filter((d) => d !== 'webhook-receiver')) expect(names).toContain(dir);
  });

  it('sets only settings the services declare, from ConfigMaps and Secrets that exist or are documented', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
    for (const w of ownWorkloads(objects)) {
      const f = factsOf(w.metadata.name);
      const declared = new Set<string>([...f.variables, ...PROCESS_VARIABLES]);
      for (const c of w.spec.template.spec.containers) {
        const names = (c.env ?? []).map((e) => e.name);
        for (const from of c.envFrom ?? []) {
          const ref = from.configMapRef?.name ?? from.secretRef?.name;
          const source = objects.find((o) => (o.kind === 'ConfigMap' || o.kind === 'Secret') && o.metadata.name === ref);
          expect(source, `${w.metadata.name}: envFrom ${ref} is in the render`).toBeDefined();
          names.push(...Object.keys((source as { data?: object; stringData?: object }).data ?? (source as { stringData?: object }).stringData ?? {}));
        }
        expect(names.filter((n) => !declared.has(n)), `${w.metadata.name} sets undeclared variables`).toEqual([]);
        for (const e of c.env ?? []) {
          const secret = e.valueFrom?.secretKeyRef?.name;
          if (secret === undefined) continue;
          const inRender = objects.some((o) => o.kind === 'Secret' && o.metadata.name === secret);
          expect(inRender || doc.includes(secret), `Secret ${secret} is rendered or docs/operations.md says how to create it`).toBe(true);
        }
      }
    }
  });

  it('listens, probes and stops the way each service does', () => {
    for (const w of ownWorkloads(objects)) {
      const f = factsOf(w.metadata.name);
      const pod = w.spec.template.spec;
      const c = pod.containers.find((x) => x.name === w.metadata.name)!;
      expect(c, `${w.metadata.name} container`).toBeDefined();
      expect(c.image).toMatch(new RegExp(`(^|/)tingfeng/${w.metadata.name}:[\\w.-]+$`));
      expect(c.ports?.map((p) => p.containerPort)).toEqual([f.defaultPort]);
      const portNames = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
      const probes = { liveness: c.livenessProbe, readiness: c.readinessProbe };
      for (const [kind, probe] of Object.entries(probes)) {
        expect(probe, `${w.metadata.name} ${kind} probe`).toBeDefined();
        const port = probe!.httpGet?.port ?? probe!.tcpSocket?.port;
        expect(portNames.has(port), `${w.metadata.name} ${kind} probe port ${String(port)}`).toBe(true);
        if (probe!.httpGet) expect(servesPath(w.metadata.name, probe!.httpGet.path), `${w.metadata.name} serves ${probe!.httpGet.path}`).toBe(true);
      }
      if (f.healthPath) {
        expect(c.livenessProbe?.httpGet?.path, 'liveness: the event loop answers').toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path, 'readiness: connected and assigned').toBe('/readyz');
      }
      expect(c.resources?.requests?.cpu && c.resources.requests.memory, `${w.metadata.name} requests`).toBeTruthy();
      expect(c.resources?.limits?.cpu && c.resources.limits.memory, `${w.metadata.name} limits`).toBeTruthy();
      expect(pod.securityContext?.runAsNonRoot, `${w.metadata.name} runs as non-root`).toBe(true);
      if (f.variables.includes('SHUTDOWN_GRACE_MS')) {
        const preStopMs = c.lifecycle?.preStop?.exec?.command[0] === 'sleep' ? Number(c.lifecycle.preStop.exec.command[1]) * 1000 : 0;
        const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
        expect(graceMs, `${w.metadata.name}: terminationGracePeriodSeconds covers preStop + SHUTDOWN_GRACE_MS`).toBeGreaterThan(preStopMs + 25_000);
      }
    }
  });

  it('keeps the analyzer, detector and archiver within their input partitions, and incidents single', () => {
    const byName = new Map(workloads(objects).map((w) => [w.metadata.name, w]));
    expect(byName.get('analyzer')!.spec.replicas ?? 1).toBeLessThanOrEqual(partitionsOf(TOPICS.posts));
    expect(byName.get('detector')!.spec.replicas ?? 1).toBeLessThanOrEqual(partitionsOf(TOPICS.postsEnriched));
    expect(byName.get('archiver')!.spec.replicas ?? 1).toBeLessThanOrEqual(partitionsOf(TOPICS.postsEnriched));
    expect(byName.get('incidents')!.spec.replicas).toBe(1);
    expect(byName.get('incidents')!.spec.strategy?.type).toBe('Recreate');
  });

  it('points every Service and PodDisruptionBudget at a workload, and every Service at a named port', () => {
    const all = workloads(objects);
    for (const o of objects.filter((x) => x.kind === 'Service' || x.kind === 'PodDisruptionBudget')) {
      const spec = o.spec as { selector: Record<string, string> & { matchLabels?: Record<string, string> }; ports?: { targetPort: string | number }[] };
      const selector = o.kind === 'Service' ? spec.selector : spec.selector.matchLabels!;
      const selected = all.filter((w) => matches(selector, w.spec.template.metadata.labels));
      expect(selected.length, `${o.kind}/${o.metadata.name} selects a workload`).toBe(1);
      for (const w of all) expect(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${w.metadata.name} selector`).toBe(true);
      for (const p of spec.ports ?? []) {
        const names = selected[0]!.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).flatMap((x) => [x.name, x.containerPort]));
        expect(names, `${o.metadata.name} targetPort`).toContain(p.targetPort);
      }
    }
    expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === 'incidents')).toBe(true);
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
  });
});

describe.each(targets)('infra/k8s/%s: the archive database', (target) => {
  const objects = render(join(k8sRoot, target));

  it('runs PostgreSQL with a persistent volume, a Service, probes and limits', () => {
    const postgres: (Workload & { spec: { volumeClaimTemplates?: { metadata: { name: string } }[] } }) | undefined = workloads(
      objects,
    ).find((w) => w.metadata.name === 'postgres');
    expect(postgres?.kind).toBe('StatefulSet');
    const c = postgres!.spec.template.spec.containers[0]!;
    const claims = postgres!.spec.volumeClaimTemplates?.map((v) => v.metadata.name) ?? [];
    expect(claims).toContain('data');
    expect((c as Container & { volumeMounts?: { name: string; mountPath: string }[] }).volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'data', mountPath: '/var/lib/postgresql/data' }]),
    );
    expect(c.livenessProbe && c.readinessProbe && c.resources?.limits?.memory).toBeTruthy();
    expect(postgres!.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
    expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === 'postgres')).toBe(true);
  });
});

it('has a kustomization in every overlay', () => {
  for (const target of targets) expect(existsSync(join(k8sRoot, target, 'kustomization.yaml')), target).toBe(true);
});
