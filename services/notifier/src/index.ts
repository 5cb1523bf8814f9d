export { createNotifierApp, notifierSettings, DEFAULT_CHANNEL_ID } from './app.js';
export type { NotifierApp } from './app.js';
export { loadNotifierConfig, NotifierConfigSchema, parseEscalationLevels } from './config.js';
export type { NotifierConfig } from './config.js';
export { DELIVERIES_QUEUE, DELIVERY_JOB_NAMES } from './jobs/types.js';
export type { DeliveryJobData, DeliverJobData, DigestJobData } from './jobs/types.js';
export { deliveryJobId, digestJobId, escalationJobId } from './jobs/job-ids.js';
export type { FailedDelivery } from './ops/ops-poller.js';
