import { CascadeTruthBuilder, type TruthPost } from '@tingfeng/detect';
import { readJsonlLines } from './jsonl.js';

/**
 * The fields of one CED line (a post as `../shared/data/README.md` describes it) that the cascade truth needs, or
 * undefined for a line that is not such a post: the truth is read from the data alone, so a bad line is left out
 * rather than refused.
 */
export function truthPostOf(line: string): TruthPost | undefined {
  let p: { id?: unknown; createdAt?: unknown; rootId?: unknown; parentId?: unknown; author?: { followers?: unknown } };
  try {
    p = JSON.parse(line) as typeof p;
  } catch {
    return undefined;
  }
  if (typeof p !== 'object' || p === null) return undefined;
  const createdAtMs = typeof p.createdAt === 'number' ? p.createdAt : typeof p.createdAt === 'string' ? Date.parse(p.createdAt) : NaN;
  if (typeof p.id !== 'string' || !Number.isFinite(createdAtMs)) return undefined;
  return {
    id: p.id,
    createdAtMs,
    rootId: typeof p.rootId === 'string' ? p.rootId : undefined,
    parentId: typeof p.parentId === 'string' ? p.parentId : undefined,
    followers: typeof p.author?.followers === 'number' ? p.author.followers : undefined,
  };
}

/**
 * The cascades of a CED file (`.jsonl`, `.jsonl.xz`, or `-` for standard input), read line by line through
 * {@link readJsonlLines}: its errors (a missing file, a failing `xz`) are the caller's to report.
 */
export async function readCascadeTruth(pathOrDash: string): Promise<CascadeTruthBuilder> {
  const builder = new CascadeTruthBuilder();
  for await (const { line } of readJsonlLines(pathOrDash)) {
    const post = truthPostOf(line);
    if (post !== undefined) builder.add(post);
  }
  return builder;
}
