// Entry point for code that runs outside a test file (vitest globalSetup,
// scripts): everything here works without the vitest runner, unlike `redisTest`.
export { kafkaBrokers, redisUrl } from './env.js';
export { createTopics, deleteTopics, ensureStandardTopics } from './kafka.js';
export type { TopicRequest } from './kafka.js';
export { freePort, portOpen, kafkaAnswers, redisAnswers } from './probes.js';
export { databaseUrl, postgresAnswers, startThrowawayPostgres, randomSchemaName, dropSchema } from './postgres.js';
export type { ThrowawayPostgres } from './postgres.js';
export { seededRandom } from './posts.js';
export { sharedFile, SHARED_DIR } from './shared.js';
export { ensureChromium, ensureDebianCommand, ensureDebianPackages, APT_LOCK, CHROMIUM_PATH } from './debian.js';
export type { DebianNeed } from './debian.js';
