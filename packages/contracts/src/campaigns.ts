import { z } from 'zod';

/**
 * A response campaign as the incidents service registers it (`{p}campaign:<incidentId>`) and the detector reads it.
 * Loose, so either side can add a field without breaking the other.
 */
export const CampaignRecordSchema = z.looseObject({
  incidentId: z.string().min(1),
  /** The incident's dedup key: a `response` alert about the campaign carries it as `incidentKey`. */
  incidentKey: z.string().min(1),
  /** The incident's title, for the alert's title. */
  title: z.string().optional(),
  /** The narrative's terms: the most frequent terms of the incident's alerts (response alerts excluded), at most ~10. */
  terms: z.array(z.string().min(1)),
  /** Root post ids of the incident's cascade alerts: their reposts are narrative whatever their words. */
  rootIds: z.array(z.string().min(1)),
  /** The organisation's accounts answering it, matched on a post's author id or name. */
  accounts: z.array(z.string().min(1)),
  /** ISO-8601 event time the response began. */
  startedAt: z.string(),
});
export type CampaignRecord = z.infer<typeof CampaignRecordSchema>;

/**
 * A campaign's curves per time bucket of event time (`{p}campaign-series:<incidentId>`), dense from `startMs`:
 * index i covers [startMs + i·bucketMs, startMs + (i+1)·bucketMs). Written by the detector, read by the incidents API.
 */
export const CampaignSeriesSchema = z.looseObject({
  incidentId: z.string(),
  bucketMs: z.number(),
  /** Epoch ms (event time) of the first bucket's start. */
  startMs: z.number(),
  /** Epoch ms (event time) the response began. */
  startedAtMs: z.number(),
  accounts: z.array(z.string()),
  /** Narrative posts per bucket. */
  narrative: z.array(z.number()),
  /** Narrative posts with sentiment below 0 per bucket. */
  negative: z.array(z.number()),
  /** Posts by the campaign's accounts per bucket. */
  response: z.array(z.number()),
  /** Sum of the followers of the authors of those posts per bucket. */
  reach: z.array(z.number()),
  /** Narrative and negative counts of the last full bucket before the response began (kept when that bucket is trimmed). */
  baseline: z.object({ narrative: z.number(), negative: z.number() }).nullable().default(null),
  /** Start (epoch ms, event time) of the bucket the last `response` alert was raised on, if any. */
  lastAlertBucketMs: z.number().nullable().default(null),
  /** Latest event time the tracker has seen, epoch ms. */
  eventTimeMs: z.number().nullable().default(null),
});
export type CampaignSeries = z.infer<typeof CampaignSeriesSchema>;
