/**
 * pnpm eval [--json] [--generated-tokens]
 *
 * Generates the labelled scenarios (seeded, deterministic; packages/detect/src/scenarios) and scores
 * the detectors on them: per scenario, detection delay (event-time minutes from onset), recall,
 * precision, false alarms per simulated day, and the cascade `critical` call's precision and lead time.
 * By default each post goes through the real analyzer first, as in production; `--generated-tokens` scores the
 * detectors on the generator's own tokens and flags instead (isolating the detectors from the analyzer).
 */
import { parseArgs } from 'node:util';
import { allScenarios, runScenario } from '@tingfeng/detect';
import { analyzeScenarios } from './lib/scenario-analysis.js';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, 'generated-tokens': { type: 'boolean' } }, strict: true });
const scenarios = values['generated-tokens'] ? allScenarios() : analyzeScenarios(allScenarios());
const rows = scenarios.map((s) => {
  const { alertList: _alerts, ...score } = runScenario(s);
  return { description: s.description, ...score };
});
if (values.json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  const lines = [
    '| scenario | days | posts | alerts (by type) | recall | precision | delay, min from onset | false alarms/day | false stories/day | quiet/daily violations | critical right/calls (lead, min) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const byType = Object.entries(r.alertsByType).map(([t, n]) => `${t} ${n}`).join(', ') || '–';
    const delays = Object.entries(r.delaysMin).map(([e, d]) => `${e} ${d === null ? 'missed' : fmt(d)}`).join('; ') || '–';
    const crit = r.criticalCalls === 0 ? '–' : `${r.criticalCorrect}/${r.criticalCalls} (${r.criticalLeadMin.map(fmt).join(', ')})`;
    lines.push(`| ${r.scenario} | ${fmt(r.days)} | ${r.posts} | ${r.alerts} (${byType}) | ${fmt(r.recall)} | ${fmt(r.precision)} | ${delays} | ${fmt(r.falseAlarmsPerDay)} | ${fmt(r.falseStoryAlertsPerDay)} | ${r.quietViolations + r.dailyRepeatAlerts} | ${crit} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
