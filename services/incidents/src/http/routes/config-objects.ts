import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Logger } from '@tingfeng/logger';
import {
  ChannelsConfigSchema,
  mergeRedactedChannels,
  redactChannel,
  RoutesConfigSchema,
  SilenceSchema,
  type Channel,
  type RedisKeys,
  type RoutesConfig,
  type Silence,
} from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import type { ApiToken } from '../../config.js';
import { requires } from '../auth.js';
import { parseOr400 } from '../validate.js';

export interface ConfigRoutesOptions {
  tokens: readonly ApiToken[];
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
}

/** A new silence: `id` optional (generated), `createdBy`/`createdAt` filled from the caller. */
export const NewSilenceSchema = SilenceSchema.extend({ id: z.string().min(1).max(64).optional() });

const AUDIT_KEEP = 1000;

/**
 * Admin configuration stored in Redis for the notifier (`{p}config:routes|silences|channels`).
 * Every change is audited (`{p}audit`, newest first, and the log). Reading channels never shows their secrets.
 */
export function registerConfigRoutes(app: FastifyInstance, { tokens, redis, keys, logger }: ConfigRoutesOptions): void {
  const admin = requires(tokens, 'admin');
  let tail: Promise<unknown> = Promise.resolve();
  // Read-modify-write of one JSON value: serialised so two admins' edits do not lose one another.
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
  const readJson = async <T>(key: string, fallback: T): Promise<T> => {
    const raw = await redis.get(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  };
  const audit = async (req: FastifyRequest, action: string, target: string) => {
    const record = { at: new Date().toISOString(), actor: req.principal?.name ?? 'unknown', action, target };
    await redis.multi().lpush(keys.audit, JSON.stringify(record)).ltrim(keys.audit, 0, AUDIT_KEEP - 1).exec();
    logger.info({ audit: record }, 'configuration changed');
  };

  app.get('/api/routes', { preHandler: admin }, async () => readJson<RoutesConfig>(keys.routes, { rules: [] }));
  app.put('/api/routes', { preHandler: admin }, async (req, reply) => {
    const body = await parseOr400(RoutesConfigSchema, req.body, reply);
    if (!body) return reply;
    await redis.set(keys.routes, JSON.stringify(body));
    await audit(req, 'routes.put', `${body.rules.length} rules`);
    return body;
  });

  app.get('/api/silences', { preHandler: admin }, async () => {
    const nowMs = Date.now();
    const silences = await readJson<Silence[]>(keys.silences, []);
    return silences.map((s) => ({ ...s, active: Date.parse(s.endsAt) > nowMs && (!s.startsAt || Date.parse(s.startsAt) <= nowMs) }));
  });
  app.post('/api/silences', { preHandler: admin }, async (req, reply) => {
    const body = await parseOr400(NewSilenceSchema, req.body, reply);
    if (!body) return reply;
    const silence: Silence = { ...body, id: body.id ?? randomUUID(), createdBy: req.principal?.name ?? 'unknown', createdAt: new Date().toISOString() };
    await serial(async () => {
      const silences = (await readJson<Silence[]>(keys.silences, [])).filter((s) => s.id !== silence.id);
      // Expired silences are dropped on every write so the list stays short.
      const nowMs = Date.now();
      await redis.set(keys.silences, JSON.stringify([...silences.filter((s) => Date.parse(s.endsAt) > nowMs), silence]));
    });
    await audit(req, 'silences.create', silence.id);
    return reply.code(201).send(silence);
  });
  app.delete('/api/silences/:id', { preHandler: admin }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const removed = await serial(async () => {
      const silences = await readJson<Silence[]>(keys.silences, []);
      const rest = silences.filter((s) => s.id !== id);
      if (rest.length === silences.length) return false;
      await redis.set(keys.silences, JSON.stringify(rest));
      return true;
    });
    if (!removed) return reply.code(404).send({ error: 'not_found', message: `silence ${id} not found` });
    await audit(req, 'silences.delete', id);
    return reply.code(204).send();
  });

  app.get('/api/channels', { preHandler: admin }, async () => (await readJson<Channel[]>(keys.channels, [])).map(redactChannel));
  app.put('/api/channels', { preHandler: admin }, async (req, reply) => {
    const body = await parseOr400(ChannelsConfigSchema, req.body, reply);
    if (!body) return reply;
    const ids = body.map((c) => c.id);
    if (new Set(ids).size !== ids.length) return reply.code(400).send({ error: 'invalid_request', message: 'channel ids must be unique' });
    const merged = await serial(async () => {
      const next = mergeRedactedChannels(body, await readJson<Channel[]>(keys.channels, []));
      await redis.set(keys.channels, JSON.stringify(next));
      return next;
    });
    await audit(req, 'channels.put', ids.join(','));
    return merged.map(redactChannel);
  });

  app.get('/api/audit', { preHandler: admin }, async () => (await redis.lrange(keys.audit, 0, 199)).map((r) => JSON.parse(r) as unknown));
}
