import { consumerLagGauge, Counter, Gauge, Histogram, type Registry } from '@tingfeng/metrics';

/**
 * The analyzer's series. New ones are `tingfeng_analyzer_<what>_<unit>`; the older `tingfeng_posts_*`, `…_analyze_*` and
 * `…_batch_*` keep their names because infra/monitoring's dashboards and rules use them (docs/operations.md, Metrics).
 */
export function analyzerMetrics(registry: Registry) {
  return {
    postsIn: new Counter({ name: 'tingfeng_posts_in_total', help: 'Messages consumed from the posts topic', registers: [registry] }),
    enriched: new Counter({ name: 'tingfeng_posts_enriched_total', help: 'Posts published to posts.enriched', registers: [registry] }),
    rejected: new Counter({
      name: 'tingfeng_posts_rejected_total',
      help: 'Messages sent to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    duplicates: new Counter({ name: 'tingfeng_posts_duplicate_total', help: 'Posts dropped as already seen', registers: [registry] }),
    analyzeSeconds: new Histogram({
      name: 'tingfeng_analyze_duration_seconds',
      help: 'Time to analyze one post',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'tingfeng_batch_duration_seconds',
      help: 'Time to process and commit one batch, transaction included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    schemesActive: new Gauge({ name: 'tingfeng_analyzer_schemes_active', help: 'Monitoring schemes posts are matched against', registers: [registry] }),
    schemesInvalid: new Gauge({
      name: 'tingfeng_analyzer_schemes_invalid',
      help: 'Monitoring schemes skipped because their rule or shape is malformed',
      registers: [registry],
    }),
    lag: consumerLagGauge(registry),
  };
}

export type AnalyzerMetrics = ReturnType<typeof analyzerMetrics>;
