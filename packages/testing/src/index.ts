export { kafkaBrokers, redisUrl } from './env.js';
export { randomName } from './names.js';
export { createTestKafka, createTopics, deleteTopics, ensureStandardTopics, consumeAll, producePosts } from './kafka.js';
export type { TopicRequest, ConsumedMessage, ConsumeAllOptions } from './kafka.js';
export { redisTest, deleteKeysWithPrefix } from './redis-fixture.js';
export type { RedisFixtures } from './redis-fixture.js';
export { freePort, portOpen, kafkaAnswers, redisAnswers } from './probes.js';
export { makePosts, seededRandom, MALFORMED } from './posts.js';
export type { SyntheticPost } from './posts.js';
