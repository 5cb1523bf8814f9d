export { TOPICS, TOPIC_SPECS, QUEUES, GROUPS, postKey } from './topics.js';
export { DEFAULT_REDIS_PREFIX, schemesKey } from './redis-keys.js';
export type { TopicName, TopicSpec } from './topics.js';
export {
  parsePost,
  validatePost,
  parseEventTime,
  postIdentity,
  RawPostSchema,
  AuthorSchema,
  REJECT_REASONS,
  MAX_MESSAGE_BYTES,
  MAX_TEXT_CHARS,
  MAX_FUTURE_SKEW_MS,
  DEFAULT_PLATFORM,
} from './post.js';
export type { Post, PostFields, Author, ParseResult, ParseOptions, RejectReason } from './post.js';
export { EnrichedPostSchema, parseEnrichedPost, MAX_ENRICHED_BYTES } from './enriched.js';
export type { EnrichedPost, RepostHop, EnrichedParseResult } from './enriched.js';
export { AlertSchema, WindowSchema, ALERT_TYPES, SEVERITIES, SEVERITY_RANK } from './alert.js';
export type { Alert, AlertType, Severity } from './alert.js';
export { INCIDENT_STATUSES, ROLES, IncidentSchema, decodeIncidentView, MAX_INCIDENT_VIEW_BYTES } from './incident.js';
export type { Incident, IncidentStatus, Role } from './incident.js';
export { IncidentEventSchema, encodeIncidentEvent, decodeIncidentEvent, MAX_INCIDENT_EVENT_BYTES } from './incident-event.js';
export type { IncidentEvent, IncidentEventKind, IncidentEventOf, IncidentEventRecord } from './incident-event.js';
export { decodeJson, jsonDepthExceededAt, MAX_JSON_DEPTH } from './json.js';
export type { JsonDecodeResult, JsonDecodeFailure, JsonDecodeOptions } from './json.js';
export { CHANNEL_TYPES } from './channel.js';
export type { ChannelType } from './channel.js';
export { deadLetter, MAX_DEAD_LETTER_RAW_BYTES } from './dead-letter.js';
export type { DeadLetter } from './dead-letter.js';
export { CampaignRecordSchema, CampaignSeriesSchema } from './campaigns.js';
export type { CampaignRecord, CampaignSeries } from './campaigns.js';
export { JOB_NAMES, NOTIFY_CHANGES, NotifyJobDataSchema } from './jobs.js';
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
  SchemeSchema,
  SchemesConfigSchema,
  MAX_SCHEMES,
  REDACTED,
  redactChannel,
  mergeRedactedChannels,
} from './config-objects.js';
export type { IncidentMatcher, RouteRule, RoutesConfig, Silence, Channel, SchemeConfig } from './config-objects.js';
