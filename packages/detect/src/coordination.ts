import type { Alert, Severity } from '@tingfeng/contracts';
import type { DetectorPost } from './post.js';
import type { ResolvedConfig } from './config.js';
import { hamming, simHash } from './hash.js';
import { BoundedMap } from './lru.js';
import { MAX_EVIDENCE, accountName, buildAlert, bumpTopK, countSchemes, iso, rankOf, round3, schemesField, topKeys } from './shared.js';

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
  /** [account, posts] of every account (up to {@link MAX_ACTIVITY}), most active first in the alert; absent in older snapshots. */
  activity?: [string, number][];
  /** Distinct accounts at the last emission (re-emission on growth); absent before the first, and in older snapshots. */
  emittedAccounts?: number;
  /** [n-gram hash, posts carrying it] of the cluster's posts (up to {@link MAX_PROFILE}), in a snapshot; from its third account on. */
  profile?: [number, number][];
  /** Distinct texts of its posts, [text, posts] (up to {@link MAX_VARIANTS}): the template's wordings. */
  variants?: [string, number][];
}

export interface CoordinationSnapshot {
  keptAtSweep: number;
  entries: Entry[];
  clusters: [string, ClusterState][];
  flagged: [string, number][];
  /** Clusters merged into a campaign: [merged id, campaign id]; absent in older snapshots. */
  mergedInto?: [string, string][];
  /** Clusters whose profiles posts are matched against, most recently active last; absent in older snapshots. */
  profiled?: string[];
}

const BANDS = 4;
const MAX_CANDIDATES = 64;
const MAX_MEMBERS = 2_000;
const MAX_ACTIVITY = 2_000;
/** Accounts an alert names, most active first (the contract's `accounts`); `accountCount` says how many there are. */
const MAX_ALERT_ACCOUNTS = 100;
const MAX_PROFILE = 256;
/** Schemes kept per cluster when two merge (as countSchemes keeps them). */
const MAX_MERGED_SCHEMES = 32;
const MAX_VARIANTS = 20;
/** Account weight (0.5..1.5) from which a paraphrase joins a campaign: young and low-reach, at least half of each. */
const PARAPHRASE_MIN_WEIGHT = 1.25;
/** Campaigns whose profiles a post is matched against (the most recently active). */
const MAX_PROFILED = 32;

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
  /** Cluster id → the campaign it was merged into: index entries keep the old id. */
  private readonly mergedInto: BoundedMap<string, string>;
  /** Ids of clusters with enough accounts to have their profile matched, most recently active last. */
  private profiled: string[] = [];
  /** Per-post scratch: the post's distinct n-gram hashes. */
  private readonly grams: number[] = [];

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly isOfficial: (post: DetectorPost) => boolean,
  ) {
    this.clusters = new BoundedMap(cfg.maxClusters);
    this.flagged = new BoundedMap(cfg.maxClusters * 4);
    this.mergedInto = new BoundedMap(cfg.maxClusters * 4);
  }

  isCoordinated = (clusterId: string): boolean => this.flagged.has(this.resolve(clusterId));

  /** The campaign a cluster id now belongs to (itself unless merged). */
  private resolve(id: string): string {
    let out = id;
    for (let hops = 0; hops < 8; hops++) {
      const next = this.mergedInto.get(out);
      if (next === undefined) break;
      out = next;
    }
    return out;
  }

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
        if (d < best) {
          const id = this.resolve(e[4]);
          if (this.clusters.has(id)) {
            best = d;
            clusterId = id;
          }
        }
      }
    }
    // Paraphrases of a template are too far apart for SimHash: match the post against the campaigns' n-gram profiles.
    // Weaker evidence than a copy, so only from accounts that look made for it (young and little followed): people
    // who discuss one thing in the same few words are not a campaign.
    if (this.profiled.length > 0 && this.weightOf(post) >= PARAPHRASE_MIN_WEIGHT) {
      const campaign = this.campaignFor(text, clusterId, t);
      if (campaign !== undefined) {
        if (clusterId !== undefined && clusterId !== campaign.id) clusterId = this.merge(this.clusters.get(clusterId)!, campaign).id;
        else clusterId = campaign.id;
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
    return { clusterId: cluster.id, alerts: this.join(cluster, post, text) };
  }

  /** The distinct n-gram hashes of a normalised text, into `this.grams`. */
  private gramsOf(text: string): number[] {
    const grams = this.grams;
    grams.length = 0;
    const n = this.cfg.coordinationShingle;
    for (let i = 0; i + n <= text.length; i++) {
      let h = 0x811c9dc5;
      for (let j = i; j < i + n; j++) h = Math.imul(h ^ text.charCodeAt(j), 0x01000193);
      h >>>= 0;
      if (!grams.includes(h)) grams.push(h);
    }
    return grams;
  }

  /**
   * The live campaign whose profile holds the largest share of this text's n-grams (in two of its posts or more), at
   * least `coordinationMinContainment`; the post's own SimHash cluster counts only if it is profiled itself.
   */
  private campaignFor(text: string, own: string | undefined, t: number): ClusterState | undefined {
    const grams = this.gramsOf(text);
    if (grams.length === 0) return undefined;
    let best: ClusterState | undefined;
    let bestShare = this.cfg.coordinationMinContainment;
    for (const id of this.profiled) {
      const c = this.clusters.get(id);
      if (c === undefined || !hasProfile(c) || t - c.newestMs > this.cfg.coordinationWindowMs) continue;
      const counts = profileMap(c);
      let n = 0;
      for (const g of grams) if ((counts.get(g) ?? 0) >= 2) n++;
      const share = n / grams.length;
      if (share > bestShare || (share === bestShare && best !== undefined && c.id === own)) {
        bestShare = share;
        best = c;
      }
    }
    return best;
  }

  /**
   * Folds one cluster into another: the one that alerted first (else the larger, else the older) keeps its key, so
   * a campaign is one alert that grows. Returns the survivor.
   */
  private merge(a: ClusterState, b: ClusterState): ClusterState {
    const keep = a.seq > 0 !== b.seq > 0 ? (a.seq > 0 ? a : b) : (a.activity?.length ?? 0) !== (b.activity?.length ?? 0) ? ((a.activity?.length ?? 0) > (b.activity?.length ?? 0) ? a : b) : a.id < b.id ? a : b;
    const gone = keep === a ? b : a;
    keep.size += gone.size;
    keep.newestMs = Math.max(keep.newestMs, gone.newestMs);
    keep.members = [...keep.members, ...gone.members].sort((x, y) => x[1] - y[1]).slice(-MAX_MEMBERS);
    for (const name of gone.accounts) if (keep.accounts.length < 100 && !keep.accounts.includes(name)) keep.accounts.push(name);
    for (const id of gone.postIds) if (keep.postIds.length < MAX_EVIDENCE) keep.postIds.push(id);
    for (const [name, n] of gone.activity ?? []) bumpTopK((keep.activity ??= []), name, MAX_ACTIVITY, n);
    for (const [v, n] of gone.variants ?? []) bumpTopK((keep.variants ??= []), v, MAX_VARIANTS, n);
    for (const [s, n] of gone.schemes ?? []) bumpTopK((keep.schemes ??= []), s, MAX_MERGED_SCHEMES, n);
    if (hasProfile(gone)) {
      const counts = profileMap(keep);
      for (const [g, n] of profileMap(gone)) counts.set(g, (counts.get(g) ?? 0) + n);
      trimProfile(counts);
    }
    this.clusters.delete(gone.id);
    this.mergedInto.set(gone.id, keep.id);
    const flaggedAt = this.flagged.get(gone.id);
    if (flaggedAt !== undefined) this.flagged.set(keep.id, Math.max(flaggedAt, this.flagged.get(keep.id) ?? flaggedAt));
    this.profiled = this.profiled.filter((id) => id !== gone.id);
    return keep;
  }

  private join(c: ClusterState, post: DetectorPost, text: string): Alert[] {
    const cfg = this.cfg;
    const t = post.createdAtMs;
    const account = post.author.id;
    c.size++;
    c.newestMs = Math.max(c.newestMs, t);
    c.members.push([account, t, this.weightOf(post), this.isOfficial(post) ? 1 : 0]);
    const from = c.newestMs - cfg.coordinationWindowMs;
    if (c.members.length > MAX_MEMBERS || c.members[0]![1] < from) c.members = c.members.filter((m) => m[1] >= from).slice(-MAX_MEMBERS);
    if (c.accounts.length < 100 && !c.accounts.includes(accountName(post))) c.accounts.push(accountName(post));
    // A cluster from an older snapshot: its known accounts, once each.
    bumpTopK((c.activity ??= c.accounts.map((a): [string, number] => [a, 1])), accountName(post), MAX_ACTIVITY);
    bumpTopK((c.variants ??= []), post.ownText.slice(0, 200), MAX_VARIANTS);
    if (c.postIds.length < MAX_EVIDENCE) c.postIds.push(post.id);
    c.schemes = countSchemes(c.schemes, post);
    // From `coordinationProfileAccounts` accounts on, the cluster keeps the n-grams of its posts (begun from its
    // wordings so far, each as often as it was posted), and paraphrases are matched against them.
    if (c.activity.length >= cfg.coordinationProfileAccounts) {
      const fresh = !hasProfile(c);
      const counts = profileMap(c);
      if (fresh) {
        for (const [v, n] of c.variants) for (const g of this.gramsOf(normaliseForDuplicates(v))) counts.set(g, (counts.get(g) ?? 0) + n);
      } else {
        for (const g of this.gramsOf(text)) counts.set(g, (counts.get(g) ?? 0) + 1);
      }
      trimProfile(counts);
      this.profiled = this.profiled.filter((id) => id !== c.id);
      this.profiled.push(c.id);
      if (this.profiled.length > MAX_PROFILED) this.profiled.shift();
    }

    // Fewer members than the accounts needed: no alert, whatever their weights (most clusters hold one post).
    if (c.seq === 0 && c.members.length < cfg.coordinationMinAccounts) return [];
    const w = windowOf(c, from);
    const alerted = c.seq > 0;
    if (!alerted && (w.accounts < cfg.coordinationMinAccounts || w.weight < cfg.coordinationMinWeight)) return [];
    const total = c.activity.length;
    // The kind is decided at the first emission: a campaign keeps its key and type as it grows.
    const isResponse = alerted ? c.emittedRank === rankOf('info') : w.isResponse;
    const severity: Severity = isResponse ? 'info' : Math.max(w.accounts, total) >= 3 * cfg.coordinationMinAccounts ? 'critical' : 'warning';
    this.flagged.set(c.id, t);
    // Once alerted, the campaign re-emits under its key as accounts join (by the growth factor), and when it ends.
    const grown = c.emittedAccounts !== undefined && total >= c.emittedAccounts * cfg.coordinationReemitGrowth;
    if (rankOf(severity) <= c.emittedRank && !grown) return [];
    const campaign = this.gather(c, t);
    return [this.emit(campaign, severity, isResponse, campaign === c ? w : windowOf(campaign, from), post.createdAt, post.keywords)];
  }

  /**
   * Before an emission: folds into the campaign the live clusters whose wordings it contains (those that began
   * before its profile could recognise them). Rare (once per emission), so a scan of the live clusters is fine.
   */
  private gather(c: ClusterState, t: number): ClusterState {
    if (!hasProfile(c)) return c;
    const counts = profileMap(c);
    let campaign = c;
    for (const other of [...this.clusters.values()]) {
      if (other === campaign || t - other.newestMs > this.cfg.coordinationWindowMs || other.seq > 0) continue;
      const wordings = other.variants?.map((v) => v[0]) ?? [other.template];
      let n = 0;
      let all = 0;
      for (const v of wordings) {
        const grams = this.gramsOf(normaliseForDuplicates(v));
        all += grams.length;
        for (const g of grams) if ((counts.get(g) ?? 0) >= 2) n++;
      }
      if (all > 0 && n / all >= this.cfg.coordinationMinContainment) campaign = this.merge(campaign, other);
    }
    return campaign;
  }

  /** The campaign's alert as it stands: every emission of one campaign under one key. */
  private emit(c: ClusterState, severity: Severity, isResponse: boolean, w: WindowFigures, at: string, keywords: readonly string[]): Alert {
    const cfg = this.cfg;
    const t = Date.parse(at);
    const { accounts, weight, official, startMs } = w;
    c.emittedRank = Math.max(c.emittedRank, rankOf(severity));
    c.emittedAccounts = c.activity?.length ?? accounts;
    c.seq++;
    const type = isResponse ? 'response' : 'coordination';
    const total = c.activity?.length ?? c.accounts.length;
    const named = c.activity ? topKeys(c.activity, MAX_ALERT_ACCOUNTS) : c.accounts.slice(0, MAX_ALERT_ACCOUNTS);
    const variants = c.variants ? topKeys(c.variants, MAX_VARIANTS) : [c.template];
    return buildAlert(
        {
          key: `${type}:${c.id}`,
          type,
          at,
          severity,
          title: isResponse
            ? `官方账号统一发布: ${accounts} 个账号发布相同内容「${c.template.slice(0, 40)}」`
            : `疑似协同发帖: ${total} 个账号发布同一模板的 ${c.variants?.length ?? 1} 种文本 (${accounts} 个在 ${Math.max(1, Math.round((t - startMs) / 60_000))} 分钟内)「${c.template.slice(0, 40)}」`,
          terms: keywords.slice(0, 5),
          postIds: c.postIds.slice(0, MAX_EVIDENCE),
          accounts: named,
          accountCount: total,
          variants,
          observed: accounts,
          expected: cfg.coordinationMinAccounts,
          score: round3(weight),
          window: { start: iso(startMs), end: at },
          ...schemesField(c.schemes),
          template: c.template,
          clusterSize: c.size,
          officialShare: round3(official / Math.max(1, w.posts)),
          explain: `${accounts} distinct accounts (weighted ${round3(weight)}) posted SimHash near-duplicates (≤ ${cfg.coordinationMaxHamming} bits) or paraphrases (≥ ${cfg.coordinationMinContainment} of their ${cfg.coordinationShingle}-grams in the campaign's posts) within ${cfg.coordinationWindowMs / 60_000} min; ${total} accounts and ${c.size} posts in all`,
        },
        c.seq,
      );
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

  /**
   * Drops index entries behind the watermark's window and clusters that can no longer grow. A campaign that grew
   * since its last emission emits once more as it ends: its final alert names everyone who took part.
   */
  expire(watermarkMs: number): Alert[] {
    // Stale index entries are skipped at lookup; they are swept in bulk (a rebuild) only once they
    // could make up half the budget, which keeps the sweep off the per-minute path.
    if (this.entries.length > Math.max(this.cfg.maxCoordinationEntries / 4, 2 * this.keptAtSweep)) {
      this.compact(watermarkMs - this.cfg.coordinationWindowMs, this.cfg.maxCoordinationEntries);
      this.keptAtSweep = this.entries.length;
    }
    const stale: ClusterState[] = [];
    for (const c of this.clusters.values()) if (c.newestMs < watermarkMs - this.cfg.coordinationWindowMs) stale.push(c);
    const out: Alert[] = [];
    for (const c of stale) {
      this.clusters.delete(c.id);
      if (c.seq > 0 && c.emittedAccounts !== undefined && (c.activity?.length ?? 0) > c.emittedAccounts) {
        const severity: Severity = c.emittedRank >= rankOf('critical') ? 'critical' : c.emittedRank >= rankOf('warning') ? 'warning' : 'info';
        out.push(this.emit(c, severity, c.emittedRank === rankOf('info'), windowOf(c, c.newestMs - this.cfg.coordinationWindowMs), iso(c.newestMs), []));
      }
    }
    if (stale.length > 0) this.profiled = this.profiled.filter((id) => this.clusters.has(id));
    return out;
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
    const clusters = this.clusters.toArray().map(([id, c]): [string, ClusterState] => {
      const m = PROFILE_MAPS.get(c);
      return [id, m === undefined ? c : { ...c, profile: [...m] }];
    });
    return {
      keptAtSweep: this.keptAtSweep,
      entries: this.entries.map((e) => [...e] as Entry),
      clusters,
      flagged: this.flagged.toArray(),
      mergedInto: this.mergedInto.toArray(),
      profiled: [...this.profiled],
    };
  }

  restore(s: CoordinationSnapshot): void {
    this.entries = s.entries.map((e) => [...e] as Entry);
    this.keptAtSweep = s.keptAtSweep;
    this.rebuildBands();
    this.clusters.load(s.clusters);
    this.flagged.load(s.flagged);
    this.mergedInto.load(s.mergedInto ?? []);
    this.profiled = [...(s.profiled ?? [])];
  }
}

function bandKey(hash: readonly [number, number], band: number): number {
  const half = band < 2 ? hash[0] : hash[1];
  const bits = band % 2 === 0 ? half & 0xffff : half >>> 16;
  return band * 65536 + bits;
}

/** A cluster's members in the window: distinct accounts (each at its highest weight), their weight, official posts. */
interface WindowFigures {
  accounts: number;
  weight: number;
  official: number;
  posts: number;
  startMs: number;
  isResponse: boolean;
}

function windowOf(c: ClusterState, from: number): WindowFigures {
  const weights = new Map<string, number>();
  let official = 0;
  let posts = 0;
  let startMs = Number.POSITIVE_INFINITY;
  for (const [a, mt, w, o] of c.members) {
    if (mt < from) continue;
    if ((weights.get(a) ?? -1) < w) weights.set(a, w);
    official += o;
    posts++;
    startMs = Math.min(startMs, mt);
  }
  let weight = 0;
  for (const w of weights.values()) weight += w;
  return { accounts: weights.size, weight, official, posts, startMs: Number.isFinite(startMs) ? startMs : c.newestMs, isResponse: official * 2 >= posts };
}

/** Live n-gram profiles, kept beside the plain cluster state (written into `profile` only for a snapshot). */
const PROFILE_MAPS = new WeakMap<ClusterState, Map<number, number>>();

function hasProfile(c: ClusterState): boolean {
  return PROFILE_MAPS.has(c) || c.profile !== undefined;
}

/** The cluster's profile as a map (made from the snapshot's array on first use after a restore). */
function profileMap(c: ClusterState): Map<number, number> {
  let m = PROFILE_MAPS.get(c);
  if (m === undefined) {
    m = new Map(c.profile ?? []);
    PROFILE_MAPS.set(c, m);
  }
  return m;
}

/** Bounds a profile: past {@link MAX_PROFILE} n-grams, the rarest go (a template's n-grams are the frequent ones). */
function trimProfile(counts: Map<number, number>): void {
  if (counts.size <= MAX_PROFILE) return;
  const kept = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, Math.floor((MAX_PROFILE * 3) / 4));
  counts.clear();
  for (const [g, n] of kept) counts.set(g, n);
}
