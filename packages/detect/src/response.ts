import type { Alert } from '@tingfeng/contracts';
import type { DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { BoundedMap } from './lru.js';
import { MAX_EVIDENCE, accountName, buildAlert, countSchemes, iso, schemesField } from './shared.js';

export interface ResponseState {
  /** The alerted cascade or story this response answers. */
  target: string;
  seq: number;
  posts: number;
  lastEmittedPosts: number;
  accounts: string[];
  postIds: string[];
  terms: string[];
  firstMs: number;
  /** Monitoring schemes of the official posts, [name, posts]; absent until one has any (and in older snapshots). */
  schemes?: [string, number][];
}

export type ResponseSnapshot = [string, ResponseState][];

/**
 * Response tracker: posts by the organisation's own accounts (config `officialAccounts`) that answer
 * an alerted cascade (same root) or story (shared bursting terms). They are reported as `response`
 * alerts keyed to what they answer, so the incident shows the official reply next to the outcry.
 */
export class ResponseTracker {
  private readonly responses: BoundedMap<string, ResponseState>;

  constructor(private readonly cfg: ResolvedConfig) {
    this.responses = new BoundedMap(256);
  }

  add(post: DetectorPost, target: string): Alert[] {
    let r = this.responses.get(target);
    if (!r) {
      r = { target, seq: 0, posts: 0, lastEmittedPosts: 0, accounts: [], postIds: [], terms: [], firstMs: post.createdAtMs };
      this.responses.set(target, r);
    }
    r.posts++;
    r.firstMs = Math.min(r.firstMs, post.createdAtMs);
    const name = accountName(post);
    if (!r.accounts.includes(name) && r.accounts.length < 100) r.accounts.push(name);
    if (r.postIds.length < MAX_EVIDENCE) r.postIds.push(post.id);
    for (const k of post.keywords) if (!r.terms.includes(k) && r.terms.length < 10) r.terms.push(k);
    r.schemes = countSchemes(r.schemes, post);
    const first = r.seq === 0 && r.posts >= this.cfg.responseMinPosts;
    const grew = r.seq > 0 && r.posts >= 4 * r.lastEmittedPosts;
    if (!first && !grew) return [];
    r.seq++;
    r.lastEmittedPosts = r.posts;
    return [
      buildAlert(
        {
          key: `response:${target}`,
          type: 'response',
          at: post.createdAt,
          severity: 'info',
          title: `官方回应: ${r.accounts.slice(0, 4).join('、')} 等 ${r.accounts.length} 个账号已发布 ${r.posts} 条相关内容`,
          terms: r.terms,
          postIds: r.postIds,
          accounts: r.accounts,
          observed: r.posts,
          window: { start: iso(r.firstMs), end: post.createdAt },
          ...schemesField(r.schemes),
          respondsTo: target,
          explain: `posts by configured official accounts on an alerted ${target.split(':')[0]}`,
        },
        r.seq,
      ),
    ];
  }

  counts(): { responses: number } {
    return { responses: this.responses.size };
  }

  snapshot(): ResponseSnapshot {
    return structuredClone(this.responses.toArray());
  }

  restore(s: ResponseSnapshot): void {
    this.responses.load(structuredClone(s));
  }
}
