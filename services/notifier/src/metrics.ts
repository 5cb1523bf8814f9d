import { Counter, Gauge, Histogram, type Registry } from '@tingfeng/metrics';

/** The notifier's series. */
export function notifierMetrics(registry: Registry) {
  return {
    notifications: new Counter({
      name: 'tingfeng_notifier_notifications_total',
      help: 'Incident changes handled, by change and outcome (routed, silenced, unrouted)',
      labelNames: ['change', 'outcome'] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'tingfeng_notifier_deliveries_total',
      help: 'Delivery outcomes by channel type: sent, retried, failed (attempts exhausted or permanent), digested, held (quiet hours), duplicate',
      labelNames: ['channel_type', 'outcome'] as const,
      registers: [registry],
    }),
    digests: new Counter({
      name: 'tingfeng_notifier_digests_total',
      help: 'Digest messages sent, by channel type and reason (rate, quiet)',
      labelNames: ['channel_type', 'reason'] as const,
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'tingfeng_notifier_escalations_total',
      help: 'Escalation jobs run, by outcome (escalated, not_triggered, silenced, missing, no_level)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    sendSeconds: new Histogram({
      name: 'tingfeng_notifier_send_duration_seconds',
      help: 'Time of one HTTP attempt',
      labelNames: ['channel_type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'tingfeng_notifier_queue_jobs',
      help: 'Jobs per queue and state, sampled',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    }),
  };
}

export type NotifierMetrics = ReturnType<typeof notifierMetrics>;
