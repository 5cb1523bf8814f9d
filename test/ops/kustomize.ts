/**
 * infra/k8s rendered by the real kustomize: `kubectl kustomize <dir>` (kubectl embeds kustomize v5), exactly what
 * `kubectl apply -k` sends to a cluster.
 */
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export function render(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error) throw new Error(`kubectl kustomize ${dir}: ${r.error.message} (kubectl 1.27 or later is needed: apt-get install kubectl)`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr.trim()}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`kubectl kustomize ${dir}: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** kubernetes-models module path of an object's kind: `apps/v1/Deployment`, `v1/Service`. */
export function modelPath(o: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  return `kubernetes-models/${o.apiVersion}/${o.kind}`;
}
