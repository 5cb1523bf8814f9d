/**
 * The system's one BullMQ retention policy, for every job on every queue: completed jobs are kept a week (at most
 * 50,000), so a job whose id de-duplicates (alerts, notifications, deliveries, escalations) is still found by a late
 * retry or a replay; failed ones a month (at most 10,000) to inspect, so a long outage cannot grow Redis without bound.
 */
export const JOB_RETENTION = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 50_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const;

/**
 * Retries of a `notify` or `escalate` job: one transient error (Redis or Kafka away, a slow failover) must not drop a
 * notification or end an escalation chain. Ten attempts 1 s, 2 s, 4 s … apart ride out about 17 minutes; both
 * processors are idempotent (their follow-up jobs and events carry fixed ids), so a retry adds nothing twice.
 */
export const RETRIED_JOB = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  ...JOB_RETENTION,
} as const;
