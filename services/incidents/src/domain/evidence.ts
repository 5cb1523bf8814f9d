import type { Alert } from '@tingfeng/contracts';

/** The posts an incident's alerts name: the cascades' root posts, then every evidence id, each once. */
export interface EvidenceIds {
  /** Root posts of the incident's cascade alerts, in the order the alerts fired. */
  rootIds: string[];
  /** Every other post id the alerts give as evidence, in the order the alerts gave them. */
  postIds: string[];
}

/** Most evidence ids read for one incident: its alerts carry at most 50 each. */
export const MAX_EVIDENCE_IDS = 5000;

export function evidenceIds(alerts: readonly Alert[]): EvidenceIds {
  const ordered = [...alerts].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const roots: string[] = [];
  const seen = new Set<string>();
  for (const a of ordered) {
    if (a.type !== 'cascade' || !a.rootId || seen.has(a.rootId)) continue;
    seen.add(a.rootId);
    roots.push(a.rootId);
  }
  const postIds: string[] = [];
  for (const a of ordered) {
    for (const id of a.postIds) {
      if (seen.has(id) || postIds.length + roots.length >= MAX_EVIDENCE_IDS) continue;
      seen.add(id);
      postIds.push(id);
    }
  }
  return { rootIds: roots, postIds };
}

/**
 * The order the incident page reads evidence in: the cascades' root posts first (the post that started it), then the
 * rest newest first by event time (what is being said now), ties by id. Returns a new array.
 */
export function orderEvidence<P extends { id: string; createdAt: string }>(posts: readonly P[], rootIds: readonly string[]): P[] {
  const rank = new Map(rootIds.map((id, i) => [id, i]));
  return [...posts].sort((a, b) => {
    const ra = rank.get(a.id);
    const rb = rank.get(b.id);
    if (ra !== undefined || rb !== undefined) return (ra ?? Infinity) - (rb ?? Infinity);
    const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
    return byTime !== 0 ? byTime : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** Where a page of evidence ended: the last post's event time and id (the roots are on the first page only). */
export interface EvidenceCursor {
  createdAtMs: number;
  id: string;
}

export function encodeEvidenceCursor(cursor: EvidenceCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAtMs, cursor.id])).toString('base64url');
}

/** The position in a cursor from {@link encodeEvidenceCursor}; undefined when it is not one. */
export function decodeEvidenceCursor(cursor: string): EvidenceCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') return { createdAtMs: value[0], id: value[1] };
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

/**
 * One page of evidence in {@link orderEvidence}'s order. Without a cursor: every root post (even past `limit`),
 * then the newest; with one: the posts after it (older, or as old with a greater id). A key rather than an offset,
 * so evidence that arrives while someone pages (new alerts bring newer posts) neither repeats nor shifts what follows.
 */
export function evidencePage<P extends { id: string; createdAt: string }>(
  ordered: readonly P[],
  rootIds: readonly string[],
  limit: number,
  cursor: EvidenceCursor | undefined,
): { posts: P[]; nextCursor: EvidenceCursor | null } {
  const roots = new Set(rootIds);
  const rootPosts = cursor ? [] : ordered.filter((p) => roots.has(p.id));
  const rest = ordered.filter((p) => {
    if (roots.has(p.id)) return false;
    if (!cursor) return true;
    const t = Date.parse(p.createdAt);
    return t < cursor.createdAtMs || (t === cursor.createdAtMs && p.id > cursor.id);
  });
  const others = rest.slice(0, Math.max(0, limit - rootPosts.length));
  const last = others.at(-1);
  let nextCursor: EvidenceCursor | null = null;
  if (rest.length > others.length) nextCursor = last ? { createdAtMs: Date.parse(last.createdAt), id: last.id } : { createdAtMs: Number.MAX_SAFE_INTEGER, id: '' };
  return { posts: [...rootPosts, ...others], nextCursor };
}
