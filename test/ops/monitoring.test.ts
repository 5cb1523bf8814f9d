/**
 * The alert rules and the Grafana dashboard only use series the code exports, with labels and label values it sets;
 * the metric names follow one convention; every alert has a runbook section in docs/operations.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMON_LABELS, groupingLabels, metricCatalog, metricOf, selectors, serviceSources, type MetricDefinition } from './metric-catalog.js';
import { REPO_ROOT } from './ops-files.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(join(REPO_ROOT, 'infra/monitoring/rules/tingfeng.rules.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

interface Panel {
  title?: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/monitoring/grafana/dashboards/tingfeng.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
};
const panelExprs = (panels: Panel[]): { where: string; expr: string }[] =>
  panels.flatMap((p) => [...(p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })), ...panelExprs(p.panels ?? [])]);
const dashboardExprs = [
  ...panelExprs(dashboard.panels),
  ...dashboard.templating.list
    .filter((v) => v.query !== undefined && v.name !== 'datasource')
    .map((v) => ({ where: `variable $${v.name}`, expr: typeof v.query === 'string' ? v.query! : (v.query as { query: string }).query })),
];
const prometheusConfig = readFileSync(join(REPO_ROOT, 'infra/monitoring/prometheus.yml'), 'utf8');
const ruleExprs = rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr }));

let catalog: Map<string, MetricDefinition>;
let sourceText: string;
beforeAll(async () => {
  catalog = await metricCatalog();
  sourceText = serviceSources().join('\n');
});

/** Problems with one expression: unknown series, labels the series does not carry, label values no code sets. */
function problems(where: string, expr: string): string[] {
  const found: string[] = [];
  const used = selectors(expr);
  // `up` is Prometheus's own series of the scrape job (infra/monitoring/prometheus.yml).
  const scrapesUp = /\bup\{job="tingfeng"\}/.test(expr) && prometheusConfig.includes('job_name: tingfeng');
  if (used.length === 0 && !scrapesUp) found.push(`${where}: names no tingfeng_ series`);
  const labelsInExpr = new Set<string>(COMMON_LABELS);
  for (const { series, matchers } of used) {
    const metric = metricOf(series, catalog);
    if (!metric) {
      found.push(`${where}: ${series} is not exported by any service`);
      continue;
    }
    const allowed = new Set([...metric.labels, ...COMMON_LABELS, ...(series.endsWith('_bucket') ? ['le'] : [])]);
    for (const l of allowed) labelsInExpr.add(l);
    for (const { label, op, value } of matchers) {
      if (!allowed.has(label)) found.push(`${where}: ${series} has no label ${label}`);
      if (COMMON_LABELS.includes(label) || value.includes('$') || op.startsWith('!')) continue;
      for (const v of op === '=~' ? value.split('|') : [value]) {
        if (!/^[\w-]+$/.test(v)) continue;
        if (!sourceText.includes(`'${v}'`)) found.push(`${where}: no service sets ${label}="${v}" on ${series}`);
      }
    }
  }
  for (const label of groupingLabels(expr)) {
    if (!labelsInExpr.has(label) && label !== 'le') found.push(`${where}: groups by ${label}, which none of its series carries`);
  }
  return found;
}

describe('metric names in the code', () => {
  it('follow tingfeng_<what>_<unit>: counters end in _total, histograms in a unit, labels in snake_case', () => {
    const own = [...catalog.values()].filter((m) => !m.files[0]!.startsWith('packages/metrics'));
    expect(own.length).toBeGreaterThan(20);
    const bad = own.filter(
      (m) =>
        (m.type === 'counter' && !m.name.endsWith('_total')) ||
        (m.type === 'histogram' && !/_(seconds|bytes)$/.test(m.name)) ||
        (m.type !== 'counter' && m.name.endsWith('_total')) ||
        m.labels.some((l) => !/^[a-z][a-z0-9_]*$/.test(l)),
    );
    expect(bad.map((m) => `${m.name} (${m.type}) in ${m.files.join(', ')}`)).toEqual([]);
  });

  it('are tingfeng_<service>_… of the service that exports them, or named in docs/operations.md as shared or kept', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Metrics'), doc.indexOf('| metric |'));
    // The prose above the table: exact names and `tingfeng_posts_*`-style families.
    const named = [...section.matchAll(/`(tingfeng_[a-z_]+\*?)`/g)].map((m) => m[1]!);
    const documented = (name: string) => named.some((n) => (n.endsWith('*') ? name.startsWith(n.slice(0, -1)) : n === name));
    const stray = [...catalog.values()].filter((m) => {
      const service = /^services\/([^/]+)\//.exec(m.files[0]!)?.[1]?.replace(/-/g, '_');
      const prefixed = service !== undefined && (m.name === `tingfeng_${service}` || m.name.startsWith(`tingfeng_${service}_`));
      return !prefixed && !documented(m.name);
    });
    expect(stray.map((m) => `${m.name} in ${m.files.join(', ')}`)).toEqual([]);
  });

  it('defines consumer lag once, in packages/metrics, for every consumer to share', () => {
    const lag = catalog.get('tingfeng_consumer_lag_messages');
    expect(lag?.labels).toEqual(['topic', 'partition']);
    expect(lag?.files).toEqual(['packages/metrics/src/index.ts']);
  });
});

describe('Prometheus alert rules', () => {
  it('cover lag growing, dead letters, notification failures and no input', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining(['TingfengConsumerLagGrowing', 'TingfengDeadLetterRateHigh', 'TingfengNotificationFailures', 'TingfengNoInput']));
  });

  it.each(ruleExprs)('$where uses only exported series, labels and values', ({ where, expr }) => {
    expect(problems(where, expr)).toEqual([]);
  });

  it('each alert has a severity, a summary and a runbook section in docs/operations.md', () => {
    const doc = existsSync(join(REPO_ROOT, 'docs/operations.md')) ? readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8') : '';
    const headings = new Set([...doc.matchAll(/^#+\s+(.*)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s+/g, '-')));
    for (const rule of rules.filter((r) => r.alert)) {
      expect(['info', 'warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook, rule.alert).toBe(`docs/operations.md#${rule.alert!.toLowerCase()}`);
      expect(headings.has(rule.alert!.toLowerCase()), `docs/operations.md has a heading "${rule.alert}"`).toBe(true);
    }
  });
});

describe('Grafana dashboard', () => {
  it('has panels and a stable uid', () => {
    expect(dashboard.uid).toBe('tingfeng-overview');
    expect(dashboardExprs.length).toBeGreaterThan(20);
  });

  it.each(dashboardExprs)('$where uses only exported series, labels and values', ({ where, expr }) => {
    expect(problems(where, expr)).toEqual([]);
  });

  it('shows what the issue asks for: throughput, errors by reason, latency, lag per partition, queue depths, notification outcomes, incidents by state', () => {
    const shown = new Set(dashboardExprs.flatMap(({ expr }) => selectors(expr).map((s) => metricOf(s.series, catalog)?.name)));
    const required = [
      'tingfeng_posts_in_total',
      'tingfeng_ingest_accepted_total',
      'tingfeng_posts_rejected_total',
      'tingfeng_ingest_rejected_total',
      'tingfeng_analyze_duration_seconds',
      'tingfeng_post_to_alert_seconds',
      'tingfeng_consumer_lag_messages',
      'tingfeng_notifier_queue_jobs',
      'tingfeng_notifier_deliveries_total',
      'tingfeng_incidents',
    ];
    expect(required.filter((m) => !shown.has(m))).toEqual([]);
  });
});
