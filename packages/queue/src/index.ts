export { redisKeys, DEFAULT_REDIS_PREFIX } from './keys.js';
export type { RedisKeys } from './keys.js';
export { queueConnection, queueSettings, DEFAULT_QUEUE_PREFIX } from './connection.js';
export type { QueueSettings } from './connection.js';
export { JOB_RETENTION, RETRIED_JOB } from './jobs.js';
export { Queue, Worker, QueueEvents, UnrecoverableError } from 'bullmq';
export type { Job, ConnectionOptions, JobsOptions, WorkerOptions } from 'bullmq';
