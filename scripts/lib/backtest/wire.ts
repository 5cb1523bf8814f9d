import type { RepostHop } from '@tingfeng/contracts';
import type { DetectorPost } from '@tingfeng/detect';
import type { BatchResult } from './lines.js';

/**
 * A {@link DetectorPost} as a JSON array, absent fields as null: no key names to write and parse, and no field the
 * detectors do not read (the raw text, urls, mentions, emoticons; the author's other fields). Measured against whole
 * enriched posts as JSON or as structured clones, it was the cheapest way back from a worker (see the detect README).
 *
 * The five identifiers travel as one string, joined by {@link ID_SEPARATOR}: V8's JSON.parse internalizes every
 * string value of up to 10 characters (an id, an account id), a lookup in the isolate's string table each, and the
 * table grows with every id of the history. One longer string is not looked up; splitting it costs less (~18 % of
 * the decoding, measured on the dev file's rows). Ids that are empty or hold the separator travel as an array.
 */
type PostRow = [
  ids: string | [id: string, platform: string, authorId: string, parentId: string | null, rootId: string | null],
  createdAt: string,
  createdAtMs: number,
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
  schemes: string[] | null,
];

/** A control character no real id holds; an id that does is sent unjoined. */
const ID_SEPARATOR = '\u001f';

/** Whether `id` can be joined: not empty, and without the separator. An absent one is joined as ''. */
const joinable = (id: string | undefined): boolean => id === undefined || (id.length > 0 && !id.includes(ID_SEPARATOR));

function toRow(p: DetectorPost): PostRow {
  const a = p.author;
  const ids: PostRow[0] =
    joinable(p.id) && joinable(p.platform) && joinable(a.id) && joinable(p.parentId) && joinable(p.rootId)
      ? `${p.id}${ID_SEPARATOR}${p.platform}${ID_SEPARATOR}${a.id}${ID_SEPARATOR}${p.parentId ?? ''}${ID_SEPARATOR}${p.rootId ?? ''}`
      : [p.id, p.platform, a.id, p.parentId ?? null, p.rootId ?? null];
  return [
    ids, p.createdAt, p.createdAtMs, a.name ?? null, a.followers ?? null, a.createdAt ?? null,
    p.ownText, p.tokens, p.keywords, p.topics, p.repostChain, p.spam ? 1 : 0, p.sentiment, p.schemes ?? null,
  ];
}

/** The post again, with the fields a {@link DetectorPost} has (an absent optional one is left out, as the analyzer leaves it). */
function fromRow(r: PostRow): DetectorPost {
  let id: string, platform: string, authorId: string, parentId: string | null, rootId: string | null;
  if (typeof r[0] === 'string') {
    const ids = r[0].split(ID_SEPARATOR);
    id = ids[0]!;
    platform = ids[1]!;
    authorId = ids[2]!;
    parentId = ids[3] === '' ? null : ids[3]!;
    rootId = ids[4] === '' ? null : ids[4]!;
  } else [id, platform, authorId, parentId, rootId] = r[0];
  const author: DetectorPost['author'] = { id: authorId };
  if (r[3] !== null) author.name = r[3];
  if (r[4] !== null) author.followers = r[4];
  if (r[5] !== null) author.createdAt = r[5];
  const p: DetectorPost = {
    id, platform, createdAt: r[1], createdAtMs: r[2], author,
    ownText: r[6], tokens: r[7], keywords: r[8], topics: r[9], repostChain: r[10], spam: r[11] === 1, sentiment: r[12],
  };
  if (parentId !== null) p.parentId = parentId;
  if (rootId !== null) p.rootId = rootId;
  if (r[13] !== null) p.schemes = r[13];
  return p;
}

/** A batch as it crosses threads: a JSON string per post (null where refused). */
export type WireBatch = Omit<BatchResult, 'posts'> & { rows: (string | null)[] };

/**
 * A batch's result with each post as its row's JSON: many small strings, where one string for the whole batch is a
 * large object that postMessage flattens, copies and allocates again on the other side, on fresh pages each time.
 */
export function encodeBatch(result: BatchResult): WireBatch {
  const rows = new Array<string | null>(result.posts.length);
  for (let i = 0; i < rows.length; i++) {
    const p = result.posts[i]!;
    rows[i] = p === null ? null : JSON.stringify(toRow(p));
  }
  return { rows, reasons: result.reasons, enriched: result.enriched, analysisMs: result.analysisMs };
}

export function decodeBatch(wire: WireBatch): BatchResult {
  const posts = new Array<DetectorPost | null>(wire.rows.length);
  for (let i = 0; i < posts.length; i++) {
    const row = wire.rows[i]!;
    posts[i] = row === null ? null : fromRow(JSON.parse(row) as PostRow);
  }
  return { posts, reasons: wire.reasons, enriched: wire.enriched, analysisMs: wire.analysisMs };
}
