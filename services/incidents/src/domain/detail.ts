import type { Alert } from '@tingfeng/contracts';
import { rankTerms, type IncidentView } from './incident-view.js';

/** One alert's window: what it observed against what the baseline expected. */
export interface VolumePoint {
  alertId: string;
  /** Event time the alert fired. */
  at: string;
  windowStart: string | null;
  windowEnd: string | null;
  observed: number;
  expected: number;
  score: number | null;
  severity: string;
}

/** A numeric series an alert carries (a cascade's growth curve, …), as x/y points; x is epoch ms when known, else an index. */
export interface NumericSeries {
  field: string;
  alertId: string;
  xIsTime: boolean;
  points: { x: number; y: number }[];
}

export interface EvidenceSample {
  id: string;
  text: string;
  author?: string;
  at?: string;
}

/** What the incident page shows beyond the view: its evidence and the series behind its alerts. */
export interface IncidentDetail {
  postIds: string[];
  samples: EvidenceSample[];
  terms: string[];
  accounts: string[];
  volume: VolumePoint[];
  series: NumericSeries[];
}

const NOT_SERIES = new Set(['postIds', 'terms', 'accounts', 'schemes', 'samples', 'amplifiers', 'window']);

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Reads a numeric series out of one alert field, in the shapes detectors use:
 * `{ counts: number[], bucketMs, start }` (a dense curve), `number[]`, `[x, y][]`, or objects with a time and a number.
 */
export function seriesOf(value: unknown): { xIsTime: boolean; points: { x: number; y: number }[] } | undefined {
  if (Array.isArray(value)) {
    if (value.length < 2) return undefined;
    if (value.every(isNum)) return { xIsTime: false, points: value.map((y, x) => ({ x, y })) };
    if (value.every((p) => Array.isArray(p) && p.length >= 2 && isNum(p[0]) && isNum(p[1]))) {
      const pairs = value as [number, number][];
      return { xIsTime: pairs[0]![0] > 1e11, points: pairs.map(([x, y]) => ({ x, y })) };
    }
    if (value.every((p) => typeof p === 'object' && p !== null && !Array.isArray(p))) {
      const rows = value as Record<string, unknown>[];
      const first = rows[0]!;
      const timeKey = ['at', 't', 'time', 'start', 'bucket', 'ts'].find((k) => k in first);
      const yKey = ['count', 'value', 'v', 'y', 'observed', 'n'].find((k) => isNum(first[k]));
      if (!yKey) return undefined;
      const points = rows.map((r, i) => {
        const tv = timeKey ? r[timeKey] : undefined;
        const x = typeof tv === 'string' ? Date.parse(tv) : isNum(tv) ? tv : i;
        return { x: Number.isFinite(x) ? x : i, y: isNum(r[yKey]) ? r[yKey] : 0 };
      });
      const xIsTime = timeKey !== undefined && points.every((p) => p.x > 1e11);
      return { xIsTime, points };
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const counts = o['counts'] ?? o['values'];
    if (!Array.isArray(counts) || counts.length < 2 || !counts.every(isNum)) return undefined;
    const stepMs = isNum(o['bucketMs']) ? o['bucketMs'] : isNum(o['stepMs']) ? o['stepMs'] : undefined;
    const startMs = typeof o['start'] === 'string' ? Date.parse(o['start']) : isNum(o['start']) ? o['start'] : Number.NaN;
    const timed = stepMs !== undefined && Number.isFinite(startMs);
    return { xIsTime: timed, points: counts.map((y, i) => ({ x: timed ? startMs + i * stepMs : i, y })) };
  }
  return undefined;
}

function samplesOf(alert: Alert): EvidenceSample[] {
  const raw = (alert as Record<string, unknown>)['samples'];
  if (!Array.isArray(raw)) return [];
  const out: EvidenceSample[] = [];
  for (const s of raw) {
    if (typeof s !== 'object' || s === null) continue;
    const r = s as Record<string, unknown>;
    if (typeof r['id'] !== 'string' || typeof r['text'] !== 'string') continue;
    const author = typeof r['author'] === 'string' ? r['author'] : typeof r['authorName'] === 'string' ? r['authorName'] : undefined;
    const at = typeof r['createdAt'] === 'string' ? r['createdAt'] : typeof r['at'] === 'string' ? r['at'] : undefined;
    out.push({ id: r['id'], text: r['text'], ...(author ? { author } : {}), ...(at ? { at } : {}) });
  }
  return out;
}

/** Derives the incident page's evidence and series from the alerts, purely. Curves come from the latest alert carrying each field. */
export function incidentDetail(view: IncidentView): IncidentDetail {
  const alerts = [...view.alerts].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const postIds: string[] = [];
  const seenPosts = new Set<string>();
  const samples = new Map<string, EvidenceSample>();
  const accounts = new Set<string>();
  const volume: VolumePoint[] = [];
  const latestSeries = new Map<string, NumericSeries>();
  for (const alert of alerts) {
    for (const id of alert.postIds) {
      if (seenPosts.has(id)) continue;
      seenPosts.add(id);
      postIds.push(id);
    }
    for (const s of samplesOf(alert)) if (!samples.has(s.id)) samples.set(s.id, s);
    for (const a of alert.accounts ?? []) accounts.add(a);
    if (isNum(alert.observed) && isNum(alert.expected)) {
      volume.push({
        alertId: alert.id,
        at: alert.at,
        windowStart: alert.window?.start ?? null,
        windowEnd: alert.window?.end ?? null,
        observed: alert.observed,
        expected: alert.expected,
        score: isNum(alert.score) ? alert.score : null,
        severity: alert.severity,
      });
    }
    for (const [field, value] of Object.entries(alert)) {
      if (NOT_SERIES.has(field)) continue;
      const s = seriesOf(value);
      if (s) latestSeries.set(field, { field, alertId: alert.id, ...s });
    }
  }
  return { postIds, samples: [...samples.values()], terms: rankTerms(view.alerts), accounts: [...accounts], volume, series: [...latestSeries.values()] };
}
