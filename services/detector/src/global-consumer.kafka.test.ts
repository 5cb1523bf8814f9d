/**
 * The global mode's consumer when leadership goes while it is still starting: kafkajs's stop() does nothing to a
 * consumer whose join is under way, and that join then completes. Seen under load in the containers: the lock lapsed
 * while the new leader joined, the consumer of the lost leadership stayed in the group holding partitions it no longer
 * read (its "assigned" log still showing fencing token 1 beside the new leader's 4), and those partitions stalled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dyingCityScenario, type DetectorSnapshot } from '@tingfeng/detect';
import { createKafka, type Consumer } from '@tingfeng/kafka';
import { createLogger } from '@tingfeng/logger';
import { createRegistry } from '@tingfeng/metrics';
import { Redis } from '@tingfeng/redis';
import { createTestKafka, createTopics, deleteKeysWithPrefix, deleteTopics, kafkaBrokers, producePosts, randomName, redisUrl } from '@tingfeng/testing';
import { createAlertQueue } from './alerts/queue-sink.js';
import { FencedCheckpointStore } from './checkpoint/fenced-store.js';
import { GlobalConsumer } from './consumers/global-consumer.js';
import { LeaderLock } from './leader/lock.js';
import { detectorMetrics } from './metrics.js';

const topic = randomName('enriched-abort');
const run = randomName('globabort');
let redis: Redis;

async function groupMembers(groupId: string): Promise<number> {
  const admin = createTestKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

describe('GlobalConsumer aborted while it joins the group', () => {
  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await createTopics([{ name: topic, partitions: 3 }]);
    await producePosts(topic, dyingCityScenario().posts.slice(0, 500));
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, run);
    redis.disconnect();
    await deleteTopics([topic]);
  });

  it('leaves the group once the join completes: no member is left holding partitions', async () => {
    const logger = createLogger('detector', { instance: 'abort-test' });
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'detector-abort-test' }, logger);
    // The consumer kafkajs makes for it, to abort at the moment its JoinGroup request has been answered.
    const make = kafka.consumer.bind(kafka);
    let made: Consumer | undefined;
    kafka.consumer = (config) => (made = make(config));
    const base = `${run}:global:${topic}`;
    const lock = new LeaderLock(redis, { lock: `${base}:leader`, fence: `${base}:fence` }, 60_000);
    const lease = await lock.tryAcquire('abort-test');
    expect(lease).toBeDefined();
    const { queue, sink } = createAlertQueue(redis, 'alerts', run);
    const groupId = `${run}-group-global`;
    const consumer = new GlobalConsumer({
      kafka,
      groupId,
      topic,
      detectorConfig: {},
      checkpoints: new FencedCheckpointStore<DetectorSnapshot>(redis, base, `${base}:leader`),
      lease: lease!,
      checkpointIntervalMs: 300,
      idlePartitionMs: 1_000,
      maxBufferedPerPartition: 20_000,
      sessionTimeoutMs: 30_000,
      sink,
      logger,
      metrics: detectorMetrics(createRegistry('detector')),
      onGivenUp: () => undefined,
    });
    const kafkajsConsumer = made!;
    let joinsAfterAbort = 0;
    let aborted = false;
    kafkajsConsumer.on(kafkajsConsumer.events.GROUP_JOIN, () => {
      if (aborted) joinsAfterAbort += 1;
    });
    const joinAnswered = new Promise<void>((resolve) => {
      kafkajsConsumer.on(kafkajsConsumer.events.REQUEST, (e) => {
        if (e.payload.apiName === 'JoinGroup') resolve();
      });
    });
    try {
      const starting = consumer.start();
      await joinAnswered;
      consumer.abort();
      aborted = true;
      await starting;
      await consumer.retired;
      expect(consumer.state).toBe('aborted');
      // kafkajs may finish the join, or fail it and restart the consumer 200 ms later (retryTime): what matters is
      // that no member is left once that has had time to happen. Absence is only seen by waiting, so this waits.
      const deadline = Date.now() + 30_000;
      let members = await groupMembers(groupId);
      while (members > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        members = await groupMembers(groupId);
      }
      await new Promise((r) => setTimeout(r, 3_000));
      members = await groupMembers(groupId);
      console.log(`joins completed after the abort: ${joinsAfterAbort}; members in the group 3 s after: ${members}`);
      expect(members).toBe(0);
    } finally {
      await kafkajsConsumer.disconnect().catch(() => undefined);
      await queue.close();
    }
  }, 120_000);
});

describe('GlobalConsumer stopped gracefully in the middle of a long release', () => {
  const longTopic = randomName('enriched-stop');
  const longRun = randomName('globstop');
  const POSTS = 3_000;
  let client: Redis;

  beforeAll(async () => {
    client = new Redis(redisUrl());
    await createTopics([{ name: longTopic, partitions: 1 }]);
    await producePosts(longTopic, dyingCityScenario().posts.slice(0, POSTS));
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(client, longRun);
    client.disconnect();
    await deleteTopics([longTopic]);
  });

  it('checkpoints exactly the posts the engine has seen, and the next leader goes on from there', async () => {
    const logger = createLogger('detector', { instance: 'stop-test' });
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'detector-stop-test' }, logger);
    // The whole backlog in one batch, so that one drain releases it all, in several slices.
    const make = kafka.consumer.bind(kafka);
    kafka.consumer = (config) => make({ ...config, maxBytesPerPartition: 16 * 1024 * 1024 });
    const base = `${longRun}:global:${longTopic}`;
    const lock = new LeaderLock(client, { lock: `${base}:leader`, fence: `${base}:fence` }, 60_000);
    const checkpoints = new FencedCheckpointStore<DetectorSnapshot>(client, base, `${base}:leader`);
    const { queue, sink } = createAlertQueue(client, 'alerts', longRun);
    /** A leader whose observer counts the posts the engine processes, and stops the consumer at the `stopAt`th. */
    const leader = async (stopAt: number) => {
      const lease = await lock.tryAcquire('stop-test');
      expect(lease).toBeDefined();
      const run = { observed: 0, stopping: undefined as Promise<void> | undefined, flushedAtStop: undefined as boolean | undefined };
      const consumer: GlobalConsumer = new GlobalConsumer({
        kafka,
        groupId: `${longRun}-group-global`,
        topic: longTopic,
        detectorConfig: {},
        checkpoints,
        lease: lease!,
        checkpointIntervalMs: 60_000,
        idlePartitionMs: 60_000,
        maxBufferedPerPartition: 20_000,
        sessionTimeoutMs: 30_000,
        sink,
        logger,
        metrics: detectorMetrics(createRegistry('detector')),
        observer: {
          start: () => Promise.resolve(),
          observe: () => {
            run.observed += 1;
            if (run.observed === stopAt) run.stopping = consumer.stop();
            return [];
          },
          stop: (flush) => {
            run.flushedAtStop = flush;
            return Promise.resolve();
          },
        },
        onGivenUp: () => undefined,
      });
      await consumer.start();
      const deadline = Date.now() + 60_000;
      while (run.stopping === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(run.stopping, `stopped at post ${stopAt}`).toBeDefined();
      await run.stopping;
      expect([consumer.state, run.flushedAtStop]).toEqual(['stopped', true]);
      await lock.release(lease!);
      return { observed: run.observed, resumeOffset: Number((await checkpoints.load())?.partitions['0']?.resumeOffset) };
    };
    try {
      // The stop (SIGTERM's) lands half-way through the release's first slice: the engine sees that slice to its end,
      // not the rest of the release, and the checkpoint says so (each message here is a post).
      expect(await leader(500)).toEqual({ observed: 1_000, resumeOffset: 1_000 });
      // The next leader restores that checkpoint and processes the rest, each post once.
      expect(await leader(POSTS - 1_000)).toEqual({ observed: POSTS - 1_000, resumeOffset: POSTS });
    } finally {
      await queue.close();
    }
  }, 120_000);
});
