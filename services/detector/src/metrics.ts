import { consumerLagGauge, Counter, Gauge, Histogram, type Registry } from '@tingfeng/metrics';

/**
 * The detector's series. New ones are `tingfeng_detector_<what>_<unit>`; `tingfeng_alerts_emitted_total`,
 * `…_post_to_alert_seconds` and `…_checkpoint_*` keep their names because infra/monitoring uses them (docs/operations.md).
 */
export function detectorMetrics(registry: Registry) {
  return {
    posts: new Counter({ name: 'tingfeng_detector_posts_total', help: 'Enriched posts run through the detectors', registers: [registry] }),
    replayed: new Counter({
      name: 'tingfeng_detector_posts_skipped_total',
      help: 'Messages skipped because the restored checkpoint already reflects them',
      registers: [registry],
    }),
    malformed: new Counter({
      name: 'tingfeng_detector_malformed_total',
      help: 'Messages on posts.enriched skipped as not enriched posts (not JSON, nested too deep, wrong shape, undecodable batch)',
      registers: [registry],
    }),
    refusedFuture: new Counter({
      name: 'tingfeng_detector_refused_future_total',
      help: 'Global mode: posts the event-time merge refused (created_at_future: far ahead of their receipt, or of the posts after them on their partition); the detectors never see them',
      registers: [registry],
    }),
    processingFailed: new Counter({
      name: 'tingfeng_detector_processing_failed_total',
      help: 'Enriched posts skipped because the detectors threw on them (logged with partition, offset and error)',
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'tingfeng_alerts_emitted_total',
      help: 'Alerts sent to the alerts queue, by type and severity',
      labelNames: ['type', 'severity'],
      registers: [registry],
    }),
    sinkRefusals: new Counter({
      name: 'tingfeng_detector_alert_sink_refusals_total',
      help: 'Sends of alerts the alerts queue refused (Redis OOM, READONLY, away); each is retried with backoff, the checkpoint held',
      registers: [registry],
    }),
    undeliveredAlerts: new Gauge({
      name: 'tingfeng_detector_undelivered_alerts',
      help: 'Alerts emitted and not yet accepted by the alerts queue; above 0 for long, the queue is refusing writes',
      registers: [registry],
    }),
    endToEndSeconds: new Histogram({
      name: 'tingfeng_post_to_alert_seconds',
      help: 'Wall time from a post reaching the analyzer to the alert it tipped being queued',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    checkpointSeconds: new Histogram({
      name: 'tingfeng_checkpoint_duration_seconds',
      help: 'Time to save one partition checkpoint',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    checkpointBytes: new Gauge({
      name: 'tingfeng_checkpoint_bytes',
      help: 'Size of the last checkpoint, by partition',
      labelNames: ['partition'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'tingfeng_detector_leader',
      help: 'Global mode: 1 while this instance holds the leader lock and runs the consumer, 0 as a standby',
      registers: [registry],
    }),
    mergeBuffered: new Gauge({
      name: 'tingfeng_detector_merge_buffered_posts',
      help: 'Global mode: posts waiting in the event-time merge for the other partitions to catch up',
      registers: [registry],
    }),
    mergeWatermark: new Gauge({
      name: 'tingfeng_detector_merge_watermark_seconds',
      help: 'Global mode: the merge watermark (event time, Unix seconds)',
      registers: [registry],
    }),
    campaigns: new Gauge({
      name: 'tingfeng_detector_campaigns',
      help: 'Global mode: response campaigns the leader is tracking',
      registers: [registry],
    }),
    campaignPosts: new Counter({
      name: 'tingfeng_detector_campaign_posts_total',
      help: 'Global mode: posts counted for a response campaign, by role (response, narrative); a post counts once per campaign',
      labelNames: ['role'],
      registers: [registry],
    }),
    lag: consumerLagGauge(registry),
  };
}

export type DetectorMetrics = ReturnType<typeof detectorMetrics>;
