import type { Alert, Severity } from '@tingfeng/contracts';
import type { DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { hamming, simHash } from './hash.js';
import { BoundedMap } from './lru.js';
import { MAX_EVIDENCE, accountName, buildAlert, countSchemes, iso, rankOf, round3, schemesField } from './shared.js';

/** One indexed post: [post id, event ms, simhash lo, simhash hi, cluster id]. */
type Entry = [string, number, number, number, string];

/** One near-duplicate cluster: plain data for the snapshot. */
export interface ClusterState {
  id: string;
  template: string;
  seq: number;
  emittedRank: number;
  /** Posts in the cluster (all time). */
  size: number;
  /** [account, event ms, weight, official 0|1], pruned to the window behind the newest member. */
  members: [string, number, number, number][];
  /** Distinct accounts ever seen, first 100, for the alert. */
  accounts: string[];
  postIds: string[];
  newestMs: number;
  /** Monitoring schemes of the cluster's posts, [name, posts]; absent until one has any (and in older snapshots). */
  schemes?: [string, number][];
}

export interface CoordinationSnapshot {
  keptAtSweep: number;
  entries: Entry[];
  clusters: [string, ClusterState][];
  flagged: [string, number][];
}

const BANDS = 4;
const MAX_CANDIDATES = 64;
const MAX_MEMBERS = 2_000;

/** Removes Weibo markup and anything but letters and digits, so templates compare on their words. */
export function normaliseForDuplicates(text: string): string {
  return plainNormalised(text) ?? text.replace(MARKUP_AND_PUNCTUATION, '').toLowerCase();
}

/**
 * The same result without the Unicode regex, for the common text: no markup (`http`, `@`, `[`) and only
 * characters whose class is certain here: ASCII, CJK ideographs U+4E00–9FEF (letters without case), and the
 * usual Chinese and full-width punctuation (never letters or digits). Anything else: undefined, the regex decides.
 */
function plainNormalised(text: string): string | undefined {
  if (text.includes('http') || text.includes('@') || text.includes('[')) return undefined;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let keep: boolean;
    if (c < 0x80) {
      if (c >= 0x41 && c <= 0x5a) return undefined; // upper case: leave the lowering to the regex path
      keep = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
    } else if (c >= 0x4e00 && c <= 0x9fef) keep = true;
    else if (
      c === 0xb7 ||
      (c >= 0x2010 && c <= 0x2027) ||
      (c >= 0x3000 && c <= 0x3004) ||
      (c >= 0x3008 && c <= 0x3011) ||
      (c >= 0x3014 && c <= 0x301b) ||
      (c >= 0xff01 && c <= 0xff0f) ||
      (c >= 0xff1a && c <= 0xff20) ||
      (c >= 0xff3b && c <= 0xff40) ||
      (c >= 0xff5b && c <= 0xff65)
    )
      keep = false;
    else return undefined;
    if (!keep) {
      if (i > from) out += text.slice(from, i);
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

// One pass: links, @mentions, [emoticons], then anything that is not a letter or a digit.
const MARKUP_AND_PUNCTUATION = /https?:\/\/\S+|@[\p{L}\p{N}_-]+|\[[^\]]{1,8}\]|[^\p{L}\p{N}]/gu;

/**
 * Coordination detector: 64-bit SimHash over character n-grams of a post's own text; LSH on four
 * 16-bit bands finds every earlier post within Hamming distance 3 (pigeonhole), and near-duplicates
 * share a cluster. A cluster alerts when enough distinct, weighted accounts post it within the window.
 * Clusters made mostly of the organisation's own accounts alert as `response`, never hidden.
 */
export class CoordinationDetector {
  private entries: Entry[] = [];
  /** Index size after the last sweep: the next sweep waits until the index has doubled. */
  private keptAtSweep = 0;
  private bands = new Map<number, Entry[]>();
  private readonly clusters: BoundedMap<string, ClusterState>;
  /** Clusters flagged as coordinated (id → event ms), kept after the cluster itself ages out. */
  private readonly flagged: BoundedMap<string, number>;

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly isOfficial: (post: DetectorPost) => boolean,
  ) {
    this.clusters = new BoundedMap(cfg.maxClusters);
    this.flagged = new BoundedMap(cfg.maxClusters * 4);
  }

  isCoordinated = (clusterId: string): boolean => this.flagged.has(clusterId);

  /** Indexes the post; returns its cluster id (undefined when it has too little own text) and any alert. */
  add(post: DetectorPost): { clusterId: string | undefined; alerts: Alert[] } {
    const cfg = this.cfg;
    const text = normaliseForDuplicates(post.ownText);
    if (text.length < cfg.coordinationMinChars) return { clusterId: undefined, alerts: [] };
    const hash = simHash(text, cfg.coordinationShingle);
    const t = post.createdAtMs;
    let clusterId: string | undefined;
    let best = cfg.coordinationMaxHamming + 1;
    for (let b = 0; b < BANDS && best > 0; b++) {
      const list = this.bands.get(bandKey(hash, b));
      if (!list) continue;
      for (let i = list.length - 1, seen = 0; i >= 0 && seen < MAX_CANDIDATES; i--, seen++) {
        const e = list[i]!;
        if (Math.abs(e[1] - t) > cfg.coordinationWindowMs) continue;
        const d = hamming(hash, [e[2], e[3]]);
        if (d < best && this.clusters.has(e[4])) {
          best = d;
          clusterId = e[4];
        }
      }
    }
    const entry: Entry = [post.id, t, hash[0], hash[1], clusterId ?? post.id];
    this.entries.push(entry);
    for (let b = 0; b < BANDS; b++) {
      const k = bandKey(hash, b);
      let list = this.bands.get(k);
      if (!list) this.bands.set(k, (list = []));
      list.push(entry);
    }
    if (this.entries.length > cfg.maxCoordinationEntries) this.compact(Number.NEGATIVE_INFINITY, Math.floor(cfg.maxCoordinationEntries * 0.9));

    let cluster = clusterId === undefined ? undefined : this.clusters.get(clusterId);
    if (cluster === undefined) {
      cluster = { id: post.id, template: post.ownText.slice(0, 200), seq: 0, emittedRank: -1, size: 0, members: [], accounts: [], postIds: [], newestMs: t };
      this.clusters.set(cluster.id, cluster);
    }
    return { clusterId: cluster.id, alerts: this.join(cluster, post) };
  }

  private join(c: ClusterState, post: DetectorPost): Alert[] {
    const cfg = this.cfg;
    const t = post.createdAtMs;
    const account = post.author.id;
    c.size++;
    c.newestMs = Math.max(c.newestMs, t);
    c.members.push([account, t, this.weightOf(post), this.isOfficial(post) ? 1 : 0]);
    const from = c.newestMs - cfg.coordinationWindowMs;
    if (c.members.length > MAX_MEMBERS || c.members[0]![1] < from) c.members = c.members.filter((m) => m[1] >= from).slice(-MAX_MEMBERS);
    if (c.accounts.length < 100 && !c.accounts.includes(accountName(post))) c.accounts.push(accountName(post));
    if (c.postIds.length < MAX_EVIDENCE) c.postIds.push(post.id);
    c.schemes = countSchemes(c.schemes, post);

    // Fewer members than the accounts needed: no alert, whatever their weights (most clusters hold one post).
    if (c.members.length < cfg.coordinationMinAccounts) return [];
    // Distinct accounts in the window, each at its highest weight.
    const weights = new Map<string, number>();
    let official = 0;
    let startMs = Number.POSITIVE_INFINITY;
    for (const [a, mt, w, o] of c.members) {
      if (mt < from) continue;
      if ((weights.get(a) ?? -1) < w) weights.set(a, w);
      official += o;
      startMs = Math.min(startMs, mt);
    }
    let weight = 0;
    for (const w of weights.values()) weight += w;
    const accounts = weights.size;
    if (accounts < cfg.coordinationMinAccounts || weight < cfg.coordinationMinWeight) return [];
    const isResponse = official * 2 >= c.members.filter((m) => m[1] >= from).length;
    const severity: Severity = isResponse ? 'info' : accounts >= 3 * cfg.coordinationMinAccounts ? 'critical' : 'warning';
    this.flagged.set(c.id, t);
    if (rankOf(severity) <= c.emittedRank) return [];
    c.emittedRank = rankOf(severity);
    c.seq++;
    const type = isResponse ? 'response' : 'coordination';
    return [
      buildAlert(
        {
          key: `${type}:${c.id}`,
          type,
          at: post.createdAt,
          severity,
          title: isResponse
            ? `官方账号统一发布: ${accounts} 个账号发布相同内容「${c.template.slice(0, 40)}」`
            : `疑似协同发帖: ${accounts} 个账号 ${Math.round((t - startMs) / 60_000)} 分钟内发布近似相同内容「${c.template.slice(0, 40)}」`,
          terms: post.keywords.slice(0, 5),
          postIds: c.postIds.slice(0, MAX_EVIDENCE),
          accounts: c.accounts.slice(0, 100),
          observed: accounts,
          expected: cfg.coordinationMinAccounts,
          score: round3(weight),
          window: { start: iso(startMs), end: post.createdAt },
          ...schemesField(c.schemes),
          template: c.template,
          clusterSize: c.size,
          officialShare: round3(official / Math.max(1, c.members.filter((m) => m[1] >= from).length)),
          explain: `${accounts} distinct accounts (weighted ${round3(weight)}) posted SimHash near-duplicates (≤ ${cfg.coordinationMaxHamming} bits) within ${cfg.coordinationWindowMs / 60_000} min`,
        },
        c.seq,
      ),
    ];
  }

  /** Young, low-follower accounts weigh up to 1.5; old, well-followed ones 0.5. */
  private weightOf(post: DetectorPost): number {
    const cfg = this.cfg;
    const createdMs = post.author.createdAt ? Date.parse(post.author.createdAt) : Number.NaN;
    const ageMs = Number.isNaN(createdMs) ? Number.POSITIVE_INFINITY : post.createdAtMs - createdMs;
    const youth = ageMs <= cfg.coordinationYoungAccountMs ? 1 : ageMs >= 4 * cfg.coordinationYoungAccountMs ? 0 : 1 - (ageMs - cfg.coordinationYoungAccountMs) / (3 * cfg.coordinationYoungAccountMs);
    const followers = post.author.followers ?? cfg.coordinationLowFollowers;
    const lowReach = followers <= cfg.coordinationLowFollowers ? 1 : followers >= 100 * cfg.coordinationLowFollowers ? 0 : 1 - Math.log10(followers / cfg.coordinationLowFollowers) / 2;
    return 0.5 + 0.5 * youth + 0.5 * lowReach;
  }

  /** Drops index entries behind the watermark's window and clusters that can no longer grow. */
  expire(watermarkMs: number): void {
    // Stale index entries are skipped at lookup; they are swept in bulk (a rebuild) only once they
    // could make up half the budget, which keeps the sweep off the per-minute path.
    if (this.entries.length > Math.max(this.cfg.maxCoordinationEntries / 4, 2 * this.keptAtSweep)) {
      this.compact(watermarkMs - this.cfg.coordinationWindowMs, this.cfg.maxCoordinationEntries);
      this.keptAtSweep = this.entries.length;
    }
    const stale: string[] = [];
    for (const [id, c] of this.clusters.entries()) if (c.newestMs < watermarkMs - this.cfg.coordinationWindowMs) stale.push(id);
    for (const id of stale) this.clusters.delete(id);
  }

  private compact(cutoffMs: number, keep: number): void {
    let kept = this.entries.filter((e) => e[1] >= cutoffMs);
    if (kept.length > keep) kept = kept.slice(kept.length - keep);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.rebuildBands();
  }

  private rebuildBands(): void {
    this.bands = new Map();
    for (const e of this.entries) {
      const hash = [e[2], e[3]] as const;
      for (let b = 0; b < BANDS; b++) {
        const k = bandKey(hash, b);
        let list = this.bands.get(k);
        if (!list) this.bands.set(k, (list = []));
        list.push(e);
      }
    }
  }

  counts(): { clusters: number; coordinationEntries: number; flaggedClusters: number } {
    return { clusters: this.clusters.size, coordinationEntries: this.entries.length, flaggedClusters: this.flagged.size };
  }

  snapshot(): CoordinationSnapshot {
    return { keptAtSweep: this.keptAtSweep, entries: this.entries.map((e) => [...e] as Entry), clusters: this.clusters.toArray(), flagged: this.flagged.toArray() };
  }

  restore(s: CoordinationSnapshot): void {
    this.entries = s.entries.map((e) => [...e] as Entry);
    this.keptAtSweep = s.keptAtSweep;
    this.rebuildBands();
    this.clusters.load(s.clusters);
    this.flagged.load(s.flagged);
  }
}

function bandKey(hash: readonly [number, number], band: number): number {
  const half = band < 2 ? hash[0] : hash[1];
  const bits = band % 2 === 0 ? half & 0xffff : half >>> 16;
  return band * 65536 + bits;
}
