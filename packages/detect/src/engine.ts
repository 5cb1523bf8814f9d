import type { Alert } from '@tingfeng/contracts';
import type { DetectorPost } from './post.js';
import { CascadeDetector, type CascadeSnapshot } from './cascade.js';
import { DEFAULT_CONFIG, type DetectorConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { CoordinationDetector, type CoordinationSnapshot } from './coordination.js';
import { fnv1aChar, fnv1aFinish, fnv1aStep } from './hash.js';
import { BoundedKeySet } from './lru.js';
import { ResponseTracker, type ResponseSnapshot } from './response.js';
import { NarrativeLinker, type NarrativeSnapshot } from './narratives.js';
import { SchemeDetector, type SchemeSnapshot } from './scheme.js';
import { StoryDetector, type StorySnapshot } from './story.js';

/** Counters of what the engine has seen and how much state it holds. */
export interface DetectorStats {
  posts: number;
  duplicates: number;
  /** Posts older than the watermark when they arrived (still counted in statistics). */
  late: number;
  spam: number;
  alerts: number;
  alertsByType: Record<string, number>;
  /** Largest event time seen, epoch ms (null before any post). */
  maxEventMs: number | null;
  /** Event-time watermark, epoch ms (null before any post). */
  watermarkMs: number | null;
  seenPosts: number;
  cascades: number;
  roots: number;
  postIndex: number;
  cascadeHistory: number;
  stories: number;
  storyOpenBuckets: number;
  storyTableBytes: number;
  storyClosedBuckets: number;
  storyFoldedLate: number;
  clusters: number;
  coordinationEntries: number;
  flaggedClusters: number;
  responses: number;
  narratives: number;
  /** Monitoring schemes with baselines, and those dropped at the `maxSchemes` cap. */
  schemes: number;
  schemesEvicted: number;
  /** Entries dropped from bounded maps because a cap was reached. */
  evicted: number;
}

/** Everything the engine needs to resume exactly where it stopped: plain JSON, bounded by the config. */
export interface DetectorSnapshot {
  version: 1;
  config: DetectorConfig;
  maxEventMs: number | null;
  watermarkMs: number | null;
  housekeepingMs: number | null;
  counters: { posts: number; duplicates: number; late: number; spam: number; alerts: number; alertsByType: Record<string, number> };
  seen: [number, number][];
  cascade: CascadeSnapshot;
  story: StorySnapshot;
  coordination: CoordinationSnapshot;
  response: ResponseSnapshot;
  /** Alert-to-incident links; absent in snapshots taken before linking existed. */
  narratives?: { narratives: NarrativeSnapshot; keys: [string, string][] };
  /** Monitoring-scheme baselines; absent in snapshots taken before the scheme detector existed. */
  schemes?: SchemeSnapshot;
}

/** The detectors behind one event-time clock. Not thread-safe; one per partition or per process. */
export interface DetectorEngine {
  /** The settings in force (sensitivity applied). */
  readonly config: ResolvedConfig;
  /** Feeds one post (any order); returns the alerts it tipped, in a deterministic order. */
  process(post: DetectorPost): Alert[];
  /** Moves the watermark to at least `eventTimeMs` (e.g. on idle partitions), closing windows behind it. */
  advanceWatermark(eventTimeMs: number): Alert[];
  /** End of input: closes every open window. */
  flush(): Alert[];
  /** A deep, JSON-serialisable copy of the state. */
  snapshot(): DetectorSnapshot;
  /** Replaces the state with a snapshot's (taken with the same table sizes). */
  restore(snapshot: DetectorSnapshot): void;
  stats(): DetectorStats;
}

/** Appends without a spread (most posts tip nothing, and a spread of an empty array still costs a call). */
function append(out: Alert[], alerts: Alert[]): void {
  for (let i = 0; i < alerts.length; i++) out.push(alerts[i]!);
}

/** How often (event time) idle state is swept behind the watermark. */
const HOUSEKEEPING_MS = 60_000;
/** A narrative with no alert for this long (event time) no longer gathers new alerts into its incident. */
const NARRATIVE_IDLE_MS = 6 * 3600_000;

/**
 * Creates the detector engine. With a snapshot, the engine resumes from it; the snapshot's own
 * settings win for anything that shapes state (table sizes), so a restore never misreads a table.
 */
export function createDetectorEngine(config: Partial<DetectorConfig> = {}, snapshot?: DetectorSnapshot): DetectorEngine {
  const requested = snapshot ? { ...config, storyTableSize: snapshot.config.storyTableSize, storySeasonSlots: snapshot.config.storySeasonSlots } : config;
  const cfg = resolveConfig(requested);
  // The settings as given (before sensitivity scaling), for the snapshot.
  const given: DetectorConfig = { ...DEFAULT_CONFIG, officialAccounts: [...DEFAULT_CONFIG.officialAccounts] };
  for (const [k, v] of Object.entries(requested)) if (v !== undefined) (given as unknown as Record<string, unknown>)[k] = v;
  const officials = new Set(cfg.officialAccounts);
  const isOfficial = (post: DetectorPost): boolean => officials.has(post.author.id) || (post.author.name !== undefined && officials.has(post.author.name));

  let coordination = new CoordinationDetector(cfg, isOfficial);
  let cascade = new CascadeDetector(cfg, coordination.isCoordinated);
  let story = new StoryDetector(cfg, coordination.isCoordinated);
  let response = new ResponseTracker(cfg);
  let schemes = new SchemeDetector(cfg);
  let linker = new NarrativeLinker(NARRATIVE_IDLE_MS);
  let seen = new BoundedKeySet(cfg.maxSeenPosts);
  let maxEventMs: number | null = null;
  let watermarkMs: number | null = null;
  let housekeepingMs: number | null = null;
  let counters = { posts: 0, duplicates: 0, late: 0, spam: 0, alerts: 0, alertsByType: {} as Record<string, number> };

  const count = (alerts: Alert[], eventMs: number | null): Alert[] => {
    if (alerts.length > 0) linker.link(alerts, eventMs ?? 0);
    for (const a of alerts) {
      counters.alerts++;
      counters.alertsByType[a.type] = (counters.alertsByType[a.type] ?? 0) + 1;
    }
    return alerts;
  };

  const advance = (toMs: number): Alert[] => {
    if (watermarkMs !== null && toMs <= watermarkMs) return [];
    watermarkMs = toMs;
    story.closeUpTo(toMs);
    schemes.closeUpTo(toMs);
    if (housekeepingMs === null || toMs >= housekeepingMs + HOUSEKEEPING_MS) {
      housekeepingMs = toMs;
      cascade.expire(toMs);
      // A campaign that grew since its last alert emits its final one as it ends.
      return coordination.expire(toMs);
    }
    return [];
  };

  const engine: DetectorEngine = {
    config: cfg,
    process(post) {
      counters.posts++;
      // 52 bits of two seeded hashes: a collision among 10^5 remembered posts is ~1e-11 per post.
      // Hashed as `platform:id` in pieces, without building the string.
      const hi = fnv1aFinish(fnv1aStep(fnv1aChar(fnv1aStep(0x12345678, post.platform), 0x3a), post.id)) & 0xfffff;
      const lo = fnv1aFinish(fnv1aStep(fnv1aChar(fnv1aStep(0x811c9dc5, post.platform), 0x3a), post.id));
      const idKey = hi * 0x100000000 + lo;
      if (!seen.add(idKey)) {
        counters.duplicates++;
        return [];
      }
      const t = post.createdAtMs;
      const out: Alert[] = [];
      if (watermarkMs !== null && t < watermarkMs) counters.late++;
      if (maxEventMs === null || t > maxEventMs) {
        maxEventMs = t;
        append(out, advance(t - cfg.latenessMs));
      }
      if (post.spam) {
        counters.spam++;
        return count(out, t);
      }
      const { clusterId, alerts } = coordination.add(post);
      append(out, alerts);
      append(out, cascade.add(post, clusterId));
      append(out, story.add(post, clusterId));
      append(out, schemes.add(post));
      if (isOfficial(post)) {
        const root = cascade.rootOf(post);
        const target = (root !== undefined ? cascade.alertedKey(root) : undefined) ?? story.alertedStoryFor([...post.keywords, ...post.tokens]);
        if (target !== undefined) out.push(...response.add(post, target));
      }
      return count(out, t);
    },
    advanceWatermark(eventTimeMs) {
      return count(advance(eventTimeMs), eventTimeMs);
    },
    flush() {
      if (maxEventMs === null) return [];
      // Everything seen so far is complete: close its windows (the open bucket included).
      const out = advance(maxEventMs + cfg.storyBucketMs);
      // Campaigns end too: the final alert of one that grew since its last.
      append(out, coordination.expire(maxEventMs + cfg.coordinationWindowMs + 1));
      return count(out, maxEventMs);
    },
    snapshot() {
      return structuredClone({
        version: 1 as const,
        config: given,
        maxEventMs,
        watermarkMs,
        housekeepingMs,
        counters,
        seen: seen.toArray(),
        cascade: cascade.snapshot(),
        story: story.snapshot(),
        coordination: coordination.snapshot(),
        response: response.snapshot(),
        narratives: linker.snapshot(),
        schemes: schemes.snapshot(),
      });
    },
    restore(s) {
      if (s.version !== 1) throw new Error(`unknown detector snapshot version ${String(s.version)}`);
      const copy = structuredClone(s);
      coordination = new CoordinationDetector(cfg, isOfficial);
      cascade = new CascadeDetector(cfg, coordination.isCoordinated);
      story = new StoryDetector(cfg, coordination.isCoordinated);
      response = new ResponseTracker(cfg);
      schemes = new SchemeDetector(cfg);
      linker = new NarrativeLinker(NARRATIVE_IDLE_MS);
      seen = new BoundedKeySet(cfg.maxSeenPosts);
      if (copy.narratives) linker.restore(copy.narratives);
      if (copy.schemes) schemes.restore(copy.schemes);
      coordination.restore(copy.coordination);
      cascade.restore(copy.cascade);
      story.restore(copy.story);
      response.restore(copy.response);
      seen.load(copy.seen);
      maxEventMs = copy.maxEventMs;
      watermarkMs = copy.watermarkMs;
      housekeepingMs = copy.housekeepingMs;
      counters = copy.counters;
    },
    stats() {
      return {
        ...structuredClone(counters),
        maxEventMs,
        watermarkMs,
        seenPosts: seen.size,
        ...cascade.counts(),
        ...story.counts(),
        ...coordination.counts(),
        ...response.counts(),
        ...linker.counts(),
        ...schemes.counts(),
        evicted: cascade.counts().evicted + seen.evicted,
      };
    },
  };
  if (snapshot) engine.restore(snapshot);
  return engine;
}
