import { hostname } from 'node:os';
import { z } from 'zod';
import { GROUPS, QUEUES, TOPICS } from '@tingfeng/contracts';
import { DEFAULT_CAMPAIGN_SETTINGS } from '@tingfeng/detect';
import { ConfigError, KAFKA_CONSUMER_SETTINGS, KAFKA_SETTINGS, QUEUE_SETTINGS, REDIS_KEY_SETTINGS, REDIS_SETTINGS, SHUTDOWN_SETTINGS, VIEW_REDIS_SETTINGS, loadConfig } from '@tingfeng/config';

export const DetectorServiceConfigSchema = z.object({
  ...KAFKA_SETTINGS,
  ...REDIS_SETTINGS,
  ...VIEW_REDIS_SETTINGS,
  /** Topic of enriched posts to consume. */
  DETECTOR_INPUT_TOPIC: z.string().default(TOPICS.postsEnriched),
  /**
   * `global` (default): one leader-elected instance reads every partition into one engine (exact stories and
   * coordination); the others wait as hot standbys. `partitioned`: one engine per partition, instances share them.
   */
  DETECTOR_MODE: z.enum(['global', 'partitioned']).default('global'),
  /** Consumer group; `partitioned` instances share it; the `global` leader joins `<id>-global` alone. */
  DETECTOR_GROUP_ID: z.string().default(GROUPS.detector),
  /** Distinguishes instances in logs and client ids. */
  DETECTOR_INSTANCE_ID: z.string().default(hostname()),
  /** Key prefix of the checkpoints (and, in `global` mode, the leader lock and fencing counter) in Redis. */
  DETECTOR_CHECKPOINT_PREFIX: z.string().default('tf:detector:'),
  /** How often a partition's state and offset are checkpointed (wall time); a crash replays at most this much. */
  DETECTOR_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().nonnegative().default(5_000),
  /** `global`: a partition with nothing buffered and no message for this long (wall time, as of the broker's last handled answer) stops holding the merge back. */
  DETECTOR_IDLE_PARTITION_MS: z.coerce.number().int().positive().default(30_000),
  /** `global`: a partition with this many posts waiting in the merge is paused until it drains (bounds memory). */
  DETECTOR_MERGE_MAX_BUFFERED: z.coerce.number().int().positive().default(20_000),
  /** `global`: the leader lock's time to live; a crashed leader is replaced after at most this long. */
  DETECTOR_LEADER_TTL_MS: z.coerce.number().int().min(1000).default(10_000),
  /** `global`: how often the leader renews its lock; well under the TTL so one slow renewal does not depose it. */
  DETECTOR_LEADER_RENEW_MS: z.coerce.number().int().positive().default(3_000),
  /** `global`: how often a standby tries to take the lock. */
  DETECTOR_LEADER_POLL_MS: z.coerce.number().int().positive().default(1_000),
  /** Optional JSON file of detector settings overriding the defaults (see packages/detect/README.md). */
  DETECTOR_CONFIG_FILE: z.string().optional(),
  /** The one knob: above 1 alerts earlier and more often, below 1 later and less. */
  DETECTOR_SENSITIVITY: z.coerce.number().min(0.25).max(4).optional(),
  ...REDIS_KEY_SETTINGS,
  /** `global`: wall time between reads of the active response campaigns from Redis. */
  CAMPAIGN_REFRESH_MS: z.coerce.number().int().positive().default(5_000),
  /** `global`: wall time between writes of the campaigns' changed curves to Redis. */
  CAMPAIGN_FLUSH_MS: z.coerce.number().int().positive().default(5_000),
  /** Width of a campaign's time bucket (event time). */
  CAMPAIGN_BUCKET_MS: z.coerce.number().int().min(60_000).default(DEFAULT_CAMPAIGN_SETTINGS.bucketMs),
  /** Buckets kept per campaign (144 × 10 min = a day); older ones are dropped. */
  CAMPAIGN_BUCKETS: z.coerce.number().int().min(4).max(10_000).default(DEFAULT_CAMPAIGN_SETTINGS.maxBuckets),
  /** Most campaigns tracked at once (memory and per-post work are proportional); the most recently started win. */
  CAMPAIGN_MAX: z.coerce.number().int().positive().default(DEFAULT_CAMPAIGN_SETTINGS.maxCampaigns),
  /** Event time after the response began before the narrative is judged, and the least time between two `response` alerts of one campaign. */
  CAMPAIGN_CHECK_AFTER_MS: z.coerce.number().int().positive().default(DEFAULT_CAMPAIGN_SETTINGS.checkAfterMs),
  /** A `response` alert needs the last bucket's narrative count at least this many times the bucket before the response. */
  CAMPAIGN_RISE_FACTOR: z.coerce.number().nonnegative().default(DEFAULT_CAMPAIGN_SETTINGS.riseFactor),
  /** …and at least this many narrative posts in the last bucket (noise floor). */
  CAMPAIGN_MIN_POSTS: z.coerce.number().int().nonnegative().default(DEFAULT_CAMPAIGN_SETTINGS.minPosts),
  /** Recent posts the leader remembers so a campaign registered after the fact still gets its earlier buckets (0: none). */
  CAMPAIGN_BACKFILL_POSTS: z.coerce.number().int().nonnegative().default(DEFAULT_CAMPAIGN_SETTINGS.backfillPosts),
  ...QUEUE_SETTINGS,
  /** BullMQ queue the alerts go to. */
  ALERTS_QUEUE: z.string().default(QUEUES.alerts),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  ...KAFKA_CONSUMER_SETTINGS,
  ...SHUTDOWN_SETTINGS,
});

export type DetectorServiceConfig = z.infer<typeof DetectorServiceConfigSchema>;

export type DetectorMode = DetectorServiceConfig['DETECTOR_MODE'];

/** Reads the settings from the environment; the renewal must come well inside the lock's TTL. */
export function loadDetectorServiceConfig(env: NodeJS.ProcessEnv = process.env): DetectorServiceConfig {
  const config = loadConfig(DetectorServiceConfigSchema, env);
  if (config.DETECTOR_LEADER_RENEW_MS * 2 > config.DETECTOR_LEADER_TTL_MS) {
    throw new ConfigError('DETECTOR_LEADER_RENEW_MS', `must be at most half of DETECTOR_LEADER_TTL_MS (${config.DETECTOR_LEADER_TTL_MS})`);
  }
  return config;
}
