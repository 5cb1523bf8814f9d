import { type EnrichedPost, MAX_FUTURE_SKEW_MS, parsePost, type Post, validatePost } from '@tingfeng/contracts';
import type { DetectorPost } from '@tingfeng/detect';
import { createAnalyzer } from '@tingfeng/text';

/** What became of the non-blank lines of one batch, in order. */
export interface BatchResult {
  /** Per line: the post (analysed, or taken as enriched), or null when refused. */
  posts: (DetectorPost | null)[];
  /** Per line: the refusal reason, or null. */
  reasons: (string | null)[];
  /** Lines that were enriched input (validated, not analysed). */
  enriched: number;
  /** Wall time spent on the batch (parse, validate, analyse). */
  analysisMs: number;
}

/** Any date the contract accepts passes the future check with this receipt time; the real check is the event clock's. */
const OPEN_CLOCK_MS = 8.64e15 - MAX_FUTURE_SKEW_MS;

/** Fills analyzer fields an enriched line may lack, so the detectors always see the contract's shape. */
function asEnriched(post: Post): EnrichedPost {
  const p = post as Post & Partial<EnrichedPost>;
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return Object.assign(p, {
    ownText: typeof p.ownText === 'string' ? p.ownText : p.text,
    tokens: list(p.tokens),
    keywords: list(p.keywords),
    emoticons: list(p.emoticons),
    mentions: list(p.mentions),
    topics: list(p.topics),
    urls: list(p.urls),
    repostChain: Array.isArray(p.repostChain) ? p.repostChain : [],
    spam: p.spam === true,
    sentiment: typeof p.sentiment === 'number' && Number.isFinite(p.sentiment) ? p.sentiment : 0,
  });
}

/** Processes a batch of whole lines; `warm()` loads the analyzer now rather than at the first raw line. */
export type LineProcessor = ((bytes: Buffer) => BatchResult) & { warm(): void };

/**
 * Parses, validates (with an open clock: the event clock judges "future" in order, on the main thread) and analyses
 * the lines of a batch. A line that already carries `tokens` is an enriched post: validated, not analysed. The same
 * code runs in a worker or on the main thread.
 */
export function createLineProcessor(): LineProcessor {
  /** Lazily created: a file of enriched posts never loads jieba. */
  let analyzer: ReturnType<typeof createAnalyzer> | undefined;
  /** The batch being processed. */
  let result: BatchResult = { posts: [], reasons: [], enriched: 0, analysisMs: 0 };
  const one = (line: string): void => {
    if (line.trim().length === 0) return;
    // Cheap sniff: only lines that mention tokens are parsed as possibly enriched.
    let value: unknown;
    let enriched = false;
    if (line.includes('"tokens"')) {
      try {
        value = JSON.parse(line);
        enriched = typeof value === 'object' && value !== null && Array.isArray((value as { tokens?: unknown }).tokens);
      } catch {
        // Falls through to parsePost, which gives the contract's reason.
      }
    }
    const r = enriched ? validatePost(value, { receivedAtMs: OPEN_CLOCK_MS }) : parsePost(line, { receivedAtMs: OPEN_CLOCK_MS });
    result.reasons.push(r.ok ? null : r.reason);
    if (!r.ok) result.posts.push(null);
    else if (enriched) {
      result.enriched++;
      result.posts.push(asEnriched(r.post));
    } else {
      analyzer ??= createAnalyzer();
      result.posts.push(analyzer.analyze(r.post));
    }
  };
  const processBatch = (bytes: Buffer): BatchResult => {
    const t0 = performance.now();
    result = { posts: [], reasons: [], enriched: 0, analysisMs: 0 };
    // Line by line from the bytes (0x0a never occurs inside a UTF-8 sequence): each line is a small string, where
    // the whole batch decoded at once would be a fresh large object every time. The line breaks are those readline
    // knows (CRLF, LF, lone CR); blank lines are skipped as readJsonlLines does.
    for (let start = 0; start < bytes.length; ) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      const line = bytes.toString('utf8', start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
      start = end + 1;
      if (line.includes('\r')) for (const part of line.split('\r')) one(part);
      else one(line);
    }
    result.analysisMs = performance.now() - t0;
    return result;
  };
  return Object.assign(processBatch, {
    warm: () => {
      analyzer ??= createAnalyzer();
    },
  });
}
