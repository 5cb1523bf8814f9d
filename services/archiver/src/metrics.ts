import { consumerLagGauge, Counter, Gauge, Histogram, type Registry } from '@tingfeng/metrics';

/** The archiver's series: `tingfeng_archiver_<what>_<unit>`, and the shared consumer lag. */
export function archiverMetrics(registry: Registry) {
  return {
    consumed: new Counter({ name: 'tingfeng_archiver_messages_total', help: 'Records consumed from posts.enriched', registers: [registry] }),
    written: new Counter({ name: 'tingfeng_archiver_posts_written_total', help: 'Posts new to the archive, committed', registers: [registry] }),
    duplicates: new Counter({
      name: 'tingfeng_archiver_posts_duplicate_total',
      help: 'Posts already archived (redeliveries): nothing written',
      registers: [registry],
    }),
    expired: new Counter({
      name: 'tingfeng_archiver_posts_expired_total',
      help: 'Posts older than the retention horizon: not written',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'tingfeng_archiver_rejected_total',
      help: 'Records sent to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'tingfeng_archiver_batch_duration_seconds',
      help: 'Time to parse, write and commit one batch',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    partitionsDropped: new Counter({
      name: 'tingfeng_archiver_partitions_dropped_total',
      help: 'Monthly partitions dropped by retention',
      registers: [registry],
    }),
    databaseUp: new Gauge({ name: 'tingfeng_archiver_database_up', help: '1 when the last database call succeeded', registers: [registry] }),
    lag: consumerLagGauge(registry),
  };
}

export type ArchiverMetrics = ReturnType<typeof archiverMetrics>;
