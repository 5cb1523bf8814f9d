import type { Alert, Severity } from '@tingfeng/contracts';
import type { DetectorPost } from './post.js';
import { SEVERITY_RANK } from '@tingfeng/contracts';
import { alertId } from './hash.js';

/** Most evidence post ids an alert may carry (the contract's cap). */
export const MAX_EVIDENCE = 50;

export const iso = (eventMs: number): string => new Date(eventMs).toISOString();

export const rankOf = (severity: Severity): number => SEVERITY_RANK[severity];

/** Builds an alert whose id is derived from its key and per-key emission sequence: never random, never wall clock. */
export function buildAlert(fields: AlertDraft, seq: number): Alert {
  // A copy: the detectors keep mutating their evidence arrays after the alert has left.
  return structuredClone({ id: alertId(fields.key, seq), ...fields }) as Alert;
}

/** An alert before its id: the contract's fields plus any extra evidence. */
export type AlertDraft = Pick<Alert, 'key' | 'type' | 'at' | 'severity' | 'title' | 'terms' | 'postIds'> & Record<string, unknown>;

/** The name a person knows an account by. */
export const accountName = (post: DetectorPost): string => post.author.name ?? post.author.id;

/**
 * Per-entity counts of the near-duplicate clusters its posts belong to, kept to `cap` entries by
 * dropping the smallest (a cluster that matters is a large one), so coordinatedShare stays bounded.
 */
export function bumpCluster(counts: [string, number][], clusterId: string, cap: number): void {
  for (const entry of counts) {
    if (entry[0] === clusterId) {
      entry[1]++;
      return;
    }
  }
  if (counts.length >= cap) {
    let min = 0;
    for (let i = 1; i < counts.length; i++) if (counts[i]![1] < counts[min]![1]) min = i;
    counts.splice(min, 1);
  }
  counts.push([clusterId, 1]);
}

/** Share of `total` posts that sit in clusters the coordination detector has flagged. */
export function coordinatedShare(counts: [string, number][], total: number, isCoordinated: (clusterId: string) => boolean): number {
  if (total <= 0) return 0;
  let n = 0;
  for (const [id, count] of counts) if (isCoordinated(id)) n += count;
  return round3(Math.min(1, n / total));
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Space-saving top-k counter as a plain array (snapshot-friendly): bounded whatever the number of keys. */
export function bumpTopK(counts: [string, number][], key: string, cap: number, by = 1): void {
  for (const entry of counts) {
    if (entry[0] === key) {
      entry[1] += by;
      return;
    }
  }
  if (counts.length < cap) {
    counts.push([key, by]);
    return;
  }
  let min = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]![1] < counts[min]![1]) min = i;
  // Space-saving: the newcomer inherits the evicted count, so heavy hitters are never under-counted.
  counts[min] = [key, counts[min]![1] + by];
}

/** Most monitoring schemes an alert names. */
export const MAX_ALERT_SCHEMES = 10;
/** Scheme counters kept per tracked entity (space-saving top-k): schemes are few, a post matches a handful. */
const MAX_SCHEME_COUNTS = 32;

/**
 * Counts a post's monitoring schemes into `counts`. The array is created on the first post that has any, so the
 * state (and snapshot) of a stream without schemes is unchanged and older snapshots, which lack it, still restore.
 */
export function countSchemes(counts: [string, number][] | undefined, post: DetectorPost): [string, number][] | undefined {
  const schemes = post.schemes;
  if (schemes === undefined || schemes.length === 0) return counts;
  const out = counts ?? [];
  for (const s of schemes) bumpTopK(out, s, MAX_SCHEME_COUNTS);
  return out;
}

/**
 * The `schemes` field of an alert: the distinct schemes of the posts it counted, most frequent first, at most
 * {@link MAX_ALERT_SCHEMES}; `extra` (e.g. a cascade root's) count once each. Nothing when there are none, so
 * alerts of streams without schemes stay as they were.
 */
export function schemesField(counts: [string, number][] | undefined, extra?: readonly string[]): { schemes?: string[] } {
  if ((counts === undefined || counts.length === 0) && (extra === undefined || extra.length === 0)) return {};
  const all: [string, number][] = counts ? counts.map(([s, n]) => [s, n]) : [];
  for (const s of extra ?? []) bumpTopK(all, s, Number.MAX_SAFE_INTEGER);
  return { schemes: topKeys(all, MAX_ALERT_SCHEMES) };
}

export const topKeys = (counts: [string, number][], k: number): string[] =>
  [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, k).map((e) => e[0]);
