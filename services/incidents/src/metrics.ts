import { Counter, Gauge, type Registry } from '@tingfeng/metrics';

/** The service's Prometheus series; incident counts by state are read from the view at scrape time. */
export function incidentsMetrics(registry: Registry, countByStatus: () => Promise<Record<string, number>>) {
  return {
    alerts: new Counter({
      name: 'tingfeng_incidents_alerts_total',
      help: 'Alerts taken from the alerts queue, by outcome (opened, appended, duplicate, invalid)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    eventsApplied: new Counter({
      name: 'tingfeng_incident_events_applied_total',
      help: 'Incident events read from the log, by kind and outcome (applied, duplicate, orphan; unreadable or failed: skipped)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: 'tingfeng_incident_events_appended_total',
      help: 'Incident events this service appended to the log, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    notificationsEnqueued: new Counter({
      name: 'tingfeng_incidents_notifications_enqueued_total',
      help: 'Jobs put on the notifications queue, by change',
      labelNames: ['change'] as const,
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'tingfeng_incidents_api_requests_total',
      help: 'HTTP API requests, by method, route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    incidentsExpired: new Counter({
      name: 'tingfeng_incidents_expired_total',
      help: 'Resolved incidents removed from the Redis view past INCIDENT_RETENTION_MS (the log keeps them)',
      registers: [registry],
    }),
    sseDropped: new Counter({
      name: 'tingfeng_incidents_sse_dropped_total',
      help: 'Live-stream clients disconnected for not reading, by reason (slow: not drained in time; buffer_full: too much waiting)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: 'tingfeng_incidents_sse_clients',
      help: 'Live-stream (SSE) clients connected',
      registers: [registry],
    }),
    sseRefused: new Counter({
      name: 'tingfeng_incidents_sse_refused_total',
      help: 'Live-stream connections refused because INCIDENTS_SSE_MAX_CLIENTS streams were open',
      registers: [registry],
    }),
    incidents: new Gauge({
      name: 'tingfeng_incidents',
      help: 'Incidents in the view, by status',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const counts = await countByStatus();
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    }),
  };
}

export type IncidentsMetrics = ReturnType<typeof incidentsMetrics>;
