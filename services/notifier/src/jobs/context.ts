import type { Redis } from 'ioredis';
import type { AllowList } from '@tingfeng/channels';
import type { Logger } from '@tingfeng/logger';
import type { Queue, RedisKeys } from '@tingfeng/queue';
import type { EscalationJobData } from '@tingfeng/contracts';
import type { DeliveryStore } from '../delivery/store.js';
import type { EventSink } from '../events/event-appender.js';
import type { NotifierMetrics } from '../metrics.js';
import type { ConfigStore } from '../routing/config-store.js';
import type { QuietHours } from '../routing/quiet-hours.js';
import type { EscalationLevel } from '../routing/routes.js';
import type { DeliveryJobData } from './types.js';

/** Settings the processors use, resolved once from the configuration. */
export interface NotifierSettings {
  publicUrl: string;
  timeZone: string;
  ratePerWindow: number;
  rateWindowMs: number;
  deliveryAttempts: number;
  sendTimeoutMs: number;
  /** Non-public destinations that may be reached (NOTIFY_ALLOWED_HOSTS). */
  allowList: AllowList;
  maxResponseBytes: number;
  defaultQuietHours: QuietHours | undefined;
  /** Used when `{p}config:routes` is absent (or a rule names no escalation). */
  fallback: { channels: string[]; escalation: EscalationLevel[] };
}

/** What the job processors share; built once by the composition root. */
export interface NotifierContext {
  settings: NotifierSettings;
  redis: Redis;
  /** The incident view's Redis (INCIDENT_VIEW_REDIS_URL; the same connection as `redis` when unset). */
  viewRedis: Redis;
  keys: RedisKeys;
  configStore: ConfigStore;
  store: DeliveryStore;
  deliveries: Queue<DeliveryJobData>;
  escalations: Queue<EscalationJobData>;
  events: EventSink;
  metrics: NotifierMetrics;
  logger: Logger;
}
