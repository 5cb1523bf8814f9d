/**
 * The metric catalogue as the code defines it: every `new Counter|Gauge|Histogram({ name: 'tingfeng_…' })` in the
 * services and packages (read from the source), plus the process metrics @tingfeng/metrics registers by default (read
 * from a live registry). The ops tests compare the alert rules and the dashboard against it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// The root package does not depend on @tingfeng/metrics, so it is imported by path (as test/global-setup.ts does).
import { createRegistry } from '../../packages/metrics/src/index.js';
import { REPO_ROOT } from './ops-files.js';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface MetricDefinition {
  name: string;
  type: MetricType;
  labels: string[];
  /** Where it is defined (repository-relative), one entry per definition. */
  files: string[];
}

/** Labels every series has: `service` from the registry's default labels, `job`/`instance` from Prometheus. */
export const COMMON_LABELS = ['service', 'job', 'instance'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Source text of every non-test TypeScript file of the services. */
export function serviceSources(): string[] {
  return sources(join(REPO_ROOT, 'services')).map((f) => readFileSync(f, 'utf8'));
}

export async function metricCatalog(): Promise<Map<string, MetricDefinition>> {
  const catalog = new Map<string, MetricDefinition>();
  const files = [...sources(join(REPO_ROOT, 'services')), ...sources(join(REPO_ROOT, 'packages'))];
  const definition = /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\s*\{\s*name:\s*'(tingfeng_\w+)'/g;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (let m = definition.exec(text); m; m = definition.exec(text)) {
      // The options object ends at the first `registers:` (every definition names its registry) or the closing `})`.
      const rest = text.slice(m.index + m[0].length);
      const end = rest.search(/\}\s*\)/);
      const body = end < 0 ? rest : rest.slice(0, end);
      const labelList = /labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '';
      const labels = [...labelList.matchAll(/'(\w+)'/g)].map((l) => l[1]!);
      const name = m[2]!;
      const type = m[1]!.toLowerCase() as MetricType;
      const relative = file.slice(REPO_ROOT.length + 1);
      const known = catalog.get(name);
      if (known) {
        if (known.type !== type || known.labels.join() !== labels.join()) {
          throw new Error(`${name} is defined twice with different types or labels: ${known.files.join(', ')} and ${relative}`);
        }
        known.files.push(relative);
      } else {
        catalog.set(name, { name, type, labels, files: [relative] });
      }
    }
  }
  const registry = createRegistry('catalog');
  for (const metric of await registry.getMetricsAsJSON()) {
    catalog.set(metric.name, { name: metric.name, type: String(metric.type) as MetricType, labels: [], files: ['packages/metrics (default metrics)'] });
  }
  return catalog;
}

/** The metric a series name belongs to: `x_bucket`, `x_sum`, `x_count` of a histogram are `x`. */
export function metricOf(series: string, catalog: Map<string, MetricDefinition>): MetricDefinition | undefined {
  const direct = catalog.get(series);
  if (direct) return direct;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  const parent = catalog.get(base);
  return parent && (parent.type === 'histogram' || parent.type === 'summary') ? parent : undefined;
}

export interface Selector {
  series: string;
  matchers: { label: string; op: string; value: string }[];
}

/** Every `tingfeng_…` series named in a PromQL expression, with its label matchers. */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  const re = /\b(tingfeng_[a-z0-9_]+)\b(\{([^}]*)\})?/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) {
    const matchers = [...(m[3] ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({ label: x[1]!, op: x[2]!, value: x[3]! }));
    out.push({ series: m[1]!, matchers });
  }
  return out;
}

/** Label names in `by (…)` / `without (…)` clauses. */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
}
