/**
 * A small kustomize renderer for the features infra/k8s uses (resources, namespace, labels, images, replicas,
 * strategic-merge patches, secretGenerator literals without name hashes). There is no kustomize binary here; any
 * other field makes it throw, so it never silently renders something different from `kubectl apply -k`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path: string }[];
  secretGenerator?: { name: string; literals?: string[] }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'images', 'replicas', 'patches', 'secretGenerator', 'generatorOptions']);

export function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

type Json = unknown;

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge as kustomize does it for these kinds: maps merge, lists of named items merge by name, other lists replace. */
export function strategicMerge(base: Json, patch: Json): Json {
  if (isRecord(base) && isRecord(patch)) {
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? strategicMerge(base[k], v) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && patch.every((p) => isRecord(p) && typeof p.name === 'string')) {
    const out = base.map((b) => {
      const match = patch.find((p) => isRecord(p) && isRecord(b) && p.name === b.name);
      return match ? strategicMerge(b, match) : b;
    });
    for (const p of patch) if (!base.some((b) => isRecord(b) && isRecord(p) && b.name === p.name)) out.push(p);
    return out;
  }
  return patch;
}

function containersOf(o: K8sObject): Record<string, Json>[] {
  const spec = o.spec as { template?: { spec?: { containers?: Record<string, Json>[] } } } | undefined;
  return spec?.template?.spec?.containers ?? [];
}

export function render(dir: string): K8sObject[] {
  const k = readObjects(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  const unknown = Object.keys(k).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: this renderer does not implement ${unknown.join(', ')}`);
  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    objects.push(...(statSync(path).isDirectory() ? render(path) : readObjects(path)));
  }
  if ((k.secretGenerator ?? []).length > 0 && k.generatorOptions?.disableNameSuffixHash !== true) {
    throw new Error(`${dir}: secretGenerator needs generatorOptions.disableNameSuffixHash here (name hashes are not rendered)`);
  }
  for (const gen of k.secretGenerator ?? []) {
    const data = Object.fromEntries((gen.literals ?? []).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: gen.name }, type: 'Opaque', stringData: data });
  }
  for (const { path } of k.patches ?? []) {
    for (const patch of readObjects(join(dir, path))) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${dir}/${path}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[i] = strategicMerge(objects[i], patch) as K8sObject;
    }
  }
  for (const { name, count } of k.replicas ?? []) {
    const target = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata.name === name);
    if (!target) throw new Error(`${dir}: replicas for unknown workload ${name}`);
    (target.spec as { replicas: number }).replicas = count;
  }
  for (const image of k.images ?? []) {
    let used = false;
    for (const o of objects) {
      for (const c of containersOf(o)) {
        const [repo] = String(c.image).split(':');
        if (repo !== image.name) continue;
        used = true;
        c.image = `${image.newName ?? image.name}:${image.newTag ?? String(c.image).split(':')[1] ?? 'latest'}`;
      }
    }
    if (!used) throw new Error(`${dir}: image ${image.name} is used by no container`);
  }
  for (const { pairs, includeSelectors } of k.labels ?? []) {
    if (includeSelectors) throw new Error(`${dir}: labels.includeSelectors is not implemented`);
    for (const o of objects) o.metadata.labels = { ...(o.metadata.labels ?? {}), ...pairs };
  }
  if (k.namespace) objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: k.namespace } }));
  return objects;
}

/** kubernetes-models module path of an object's kind: `apps/v1/Deployment`, `v1/Service`. */
export function modelPath(o: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  return `kubernetes-models/${o.apiVersion}/${o.kind}`;
}
