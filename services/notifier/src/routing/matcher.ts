import { SEVERITY_RANK, type Incident } from '@tingfeng/contracts';
import type { IncidentMatcher } from '@tingfeng/contracts';

/** Every term of the incident's alerts. */
export function incidentTerms(incident: Incident): Set<string> {
  const terms = new Set<string>();
  for (const alert of incident.alerts ?? []) for (const t of alert.terms ?? []) terms.add(t);
  return terms;
}

/** Regions named by the incident or its alerts (`region` is an optional extra field of both). */
export function incidentRegions(incident: Incident): Set<string> {
  const regions = new Set<string>();
  const own = (incident as Incident & { region?: unknown }).region;
  if (typeof own === 'string') regions.add(own);
  for (const alert of incident.alerts ?? []) {
    const r = (alert as { region?: unknown }).region;
    if (typeof r === 'string') regions.add(r);
  }
  return regions;
}

export function incidentSchemes(incident: Incident): Set<string> {
  const schemes = new Set<string>(incident.schemes ?? []);
  for (const alert of incident.alerts ?? []) for (const s of alert.schemes ?? []) schemes.add(s);
  return schemes;
}

const anyOf = (wanted: readonly string[] | undefined, have: Set<string>): boolean => wanted === undefined || wanted.length === 0 || wanted.some((w) => have.has(w));

/**
 * Whether an incident matches: every field the matcher gives must match, an absent or empty one matches anything.
 * `terms`, `regions`, `schemes`: at least one in common; `minSeverity`: at least that severe; `types`, `severities`, `keys`: one of.
 */
export function matchesIncident(matcher: IncidentMatcher, incident: Incident): boolean {
  if (matcher.types?.length && !matcher.types.includes(incident.type)) return false;
  if (matcher.severities?.length && !matcher.severities.includes(incident.severity)) return false;
  if (matcher.minSeverity && SEVERITY_RANK[incident.severity] < SEVERITY_RANK[matcher.minSeverity]) return false;
  if (matcher.keys?.length && !matcher.keys.includes(incident.key)) return false;
  if (!anyOf(matcher.terms, incidentTerms(incident))) return false;
  if (!anyOf(matcher.regions, incidentRegions(incident))) return false;
  if (!anyOf(matcher.schemes, incidentSchemes(incident))) return false;
  return true;
}
