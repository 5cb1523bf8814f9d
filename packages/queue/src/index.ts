export { redisKeys, DEFAULT_REDIS_PREFIX } from './keys.js';
export type { RedisKeys } from './keys.js';
export { queueConnection, queueSettings, DEFAULT_QUEUE_PREFIX } from './connection.js';
export type { QueueSettings } from './connection.js';
export { CampaignRecordSchema } from './campaigns.js';
export type { CampaignRecord, CampaignSeries } from './campaigns.js';
export { JOB_NAMES, DEDUP_RETENTION, RETRIED_JOB } from './jobs.js';
export type { AlertJobData, NotifyJobData, NotifyChange, EscalationJobData } from './jobs.js';
export {
  IncidentMatcherSchema,
  EscalationLevelSchema,
  RouteRuleSchema,
  RoutesConfigSchema,
  SilenceSchema,
  QuietHoursSchema,
  ChannelSchema,
  ChannelsConfigSchema,
  CHANNEL_TYPES,
  REDACTED,
  redactChannel,
  mergeRedactedChannels,
} from './config-objects.js';
export type { IncidentMatcher, RouteRule, RoutesConfig, Silence, Channel, ChannelType } from './config-objects.js';
export { Queue, Worker, QueueEvents, UnrecoverableError } from 'bullmq';
export type { Job, ConnectionOptions, JobsOptions, WorkerOptions } from 'bullmq';
