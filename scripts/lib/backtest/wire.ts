import type { RepostHop } from '@tingfeng/contracts';
import type { DetectorPost } from '@tingfeng/detect';
import type { BatchResult } from './lines.js';

/**
 * A {@link DetectorPost} as a JSON array, absent fields as null: no key names to write and parse, and no field the
 * detectors do not read (the raw text, urls, mentions, emoticons; the author's other fields). Measured against whole
 * enriched posts as JSON or as structured clones, it was the cheapest way back from a worker (see the detect README).
 */
type PostRow = [
  id: string,
  platform: string,
  createdAt: string,
  createdAtMs: number,
  authorId: string,
  authorName: string | null,
  authorFollowers: number | null,
  authorCreatedAt: string | null,
  ownText: string,
  tokens: string[],
  keywords: string[],
  topics: string[],
  repostChain: RepostHop[],
  spam: 0 | 1,
  sentiment: number,
  parentId: string | null,
  rootId: string | null,
  schemes: string[] | null,
];

function toRow(p: DetectorPost): PostRow {
  const a = p.author;
  return [
    p.id, p.platform, p.createdAt, p.createdAtMs, a.id, a.name ?? null, a.followers ?? null, a.createdAt ?? null,
    p.ownText, p.tokens, p.keywords, p.topics, p.repostChain, p.spam ? 1 : 0, p.sentiment,
    p.parentId ?? null, p.rootId ?? null, p.schemes ?? null,
  ];
}

/** The post again, with the fields a {@link DetectorPost} has (an absent optional one is left out, as the analyzer leaves it). */
function fromRow(r: PostRow): DetectorPost {
  const author: DetectorPost['author'] = { id: r[4] };
  if (r[5] !== null) author.name = r[5];
  if (r[6] !== null) author.followers = r[6];
  if (r[7] !== null) author.createdAt = r[7];
  const p: DetectorPost = {
    id: r[0], platform: r[1], createdAt: r[2], createdAtMs: r[3], author,
    ownText: r[8], tokens: r[9], keywords: r[10], topics: r[11], repostChain: r[12], spam: r[13] === 1, sentiment: r[14],
  };
  if (r[15] !== null) p.parentId = r[15];
  if (r[16] !== null) p.rootId = r[16];
  if (r[17] !== null) p.schemes = r[17];
  return p;
}

type WireBatch = Omit<BatchResult, 'posts'> & { posts: (PostRow | null)[] };

/** A batch's result as one JSON string, its posts as rows. */
export function encodeBatch(result: BatchResult): string {
  const posts = result.posts.map((p) => (p === null ? null : toRow(p)));
  return JSON.stringify({ posts, reasons: result.reasons, enriched: result.enriched, analysisMs: result.analysisMs } satisfies WireBatch);
}

export function decodeBatch(json: string): BatchResult {
  const c = JSON.parse(json) as WireBatch;
  const posts = new Array<DetectorPost | null>(c.posts.length);
  for (let i = 0; i < posts.length; i++) {
    const row = c.posts[i]!;
    posts[i] = row === null ? null : fromRow(row);
  }
  return { posts, reasons: c.reasons, enriched: c.enriched, analysisMs: c.analysisMs };
}
