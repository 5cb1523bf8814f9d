import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SerialQueue } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';
import type { RedisKeys } from '@tingfeng/queue';
import {
  ChannelsConfigSchema,
  MAX_SCHEMES,
  mergeRedactedChannels,
  redactChannel,
  RoutesConfigSchema,
  SchemeSchema,
  SchemesConfigSchema,
  SilenceSchema,
  type Channel,
  type RoutesConfig,
  type Silence,
} from '@tingfeng/contracts';
import type { Redis } from '@tingfeng/redis';
import { compileSchemes, type Scheme } from '@tingfeng/text/schemes';
import type { ApiToken } from '../../config.js';
import { errorAnswer, guarded, type Api } from '../api.js';

export interface ConfigRoutesOptions {
  tokens: readonly ApiToken[];
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
}

/** A new silence: `id` optional (generated), `createdBy`/`createdAt` filled from the caller. */
export const NewSilenceSchema = SilenceSchema.extend({ id: z.string().min(1).max(64).optional() });

const AUDIT_KEEP = 1000;

/** Why a list of schemes cannot be stored: the first bad scheme, by name, with the rule offset when it is syntax. */
export interface SchemeError {
  scheme: string;
  message: string;
  position?: number;
}

/**
 * Checks every rule with the analyzer's own compiler (disabled schemes too: switching one on later must not
 * surprise anyone), and that names are unique. Undefined when all is well.
 */
export function schemeErrors(schemes: readonly Scheme[]): SchemeError | undefined {
  const matcher = compileSchemes(schemes.map((s) => ({ ...s, enabled: true })));
  const bad = matcher.invalid[0];
  if (!bad) return undefined;
  return { scheme: bad.name, message: `scheme ${bad.name}: ${bad.error}`, ...(bad.position !== undefined ? { position: bad.position } : {}) };
}

/**
 * Admin configuration stored in Redis for the notifier (`{p}config:routes|silences|channels`) and the analyzer
 * (`{p}config:schemes`, the monitoring schemes it polls). Every change is audited (`{p}audit`, newest first, and
 * the log). Reading channels never shows their secrets.
 */
const NameParamsSchema = z.object({ name: z.string().min(1).max(100) });
const SilenceIdParamsSchema = z.object({ id: z.string().min(1).max(64) });
const ListedSilenceSchema = SilenceSchema.extend({ active: z.boolean() });
const AuditRecordSchema = z.looseObject({ at: z.string(), actor: z.string(), action: z.string(), target: z.string() });
const SCHEME_REFUSED = errorAnswer('A rule does not compile: `{ error: "invalid_scheme", scheme, message, position? }` (position: 0-based offset in the rule); or invalid input');
const TAGS = ['configuration'];

/**
 * Admin configuration stored in Redis for the notifier (`{p}config:routes|silences|channels`) and the analyzer
 * (`{p}config:schemes`, the monitoring schemes it polls). Every change is audited (`{p}audit`, newest first, and
 * the log). Reading channels never shows their secrets.
 */
export function registerConfigRoutes(app: Api, { tokens, redis, keys, logger }: ConfigRoutesOptions): void {
  // Read-modify-write of one JSON value: serialised so two admins' edits do not lose one another.
  const edits = new SerialQueue();
  const serial = <T>(work: () => Promise<T>): Promise<T> => edits.run(work);
  const readJson = async <T>(key: string, fallback: T): Promise<T> => {
    const raw = await redis.get(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  };
  const audit = async (req: FastifyRequest, action: string, target: string) => {
    const record = { at: new Date().toISOString(), actor: req.principal?.name ?? 'unknown', action, target };
    await redis.multi().lpush(keys.audit, JSON.stringify(record)).ltrim(keys.audit, 0, AUDIT_KEEP - 1).exec();
    logger.info({ audit: record }, 'configuration changed');
  };

  app.get('/api/routes', guarded(tokens, 'admin', { summary: 'Routing rules', tags: TAGS, response: { 200: RoutesConfigSchema } }), async () =>
    readJson<RoutesConfig>(keys.routes, { rules: [] }),
  );
  app.put(
    '/api/routes',
    guarded(tokens, 'admin', { summary: 'Replace the routing rules (audited)', tags: TAGS, body: RoutesConfigSchema, response: { 200: RoutesConfigSchema } }),
    async (req) => {
      const body = req.body;
      await redis.set(keys.routes, JSON.stringify(body));
      await audit(req, 'routes.put', `${body.rules.length} rules`);
      return body;
    },
  );

  app.get(
    '/api/silences',
    guarded(tokens, 'admin', { summary: 'Silences, each with `active` (now within its window)', tags: TAGS, response: { 200: z.array(ListedSilenceSchema) } }),
    async () => {
      const nowMs = Date.now();
      const silences = await readJson<Silence[]>(keys.silences, []);
      return silences.map((s) => ({ ...s, active: Date.parse(s.endsAt) > nowMs && (!s.startsAt || Date.parse(s.startsAt) <= nowMs) }));
    },
  );
  app.post(
    '/api/silences',
    guarded(tokens, 'admin', {
      summary: 'Add a silence (audited); `id` is generated when absent, `createdBy`/`createdAt` come from the caller',
      tags: TAGS,
      body: NewSilenceSchema,
      response: { 201: SilenceSchema },
    }),
    async (req, reply) => {
      const body = req.body;
      const silence: Silence = { ...body, id: body.id ?? randomUUID(), createdBy: req.principal?.name ?? 'unknown', createdAt: new Date().toISOString() };
      await serial(async () => {
        const silences = (await readJson<Silence[]>(keys.silences, [])).filter((s) => s.id !== silence.id);
        // Expired silences are dropped on every write so the list stays short.
        const nowMs = Date.now();
        await redis.set(keys.silences, JSON.stringify([...silences.filter((s) => Date.parse(s.endsAt) > nowMs), silence]));
      });
      await audit(req, 'silences.create', silence.id);
      return reply.code(201).send(silence);
    },
  );
  app.delete(
    '/api/silences/:id',
    guarded(tokens, 'admin', {
      summary: 'Remove a silence (audited)',
      tags: TAGS,
      params: SilenceIdParamsSchema,
      response: { 204: z.null().describe('Removed'), 404: errorAnswer('No such silence') },
    }),
    async (req, reply) => {
      const { id } = req.params;
      const removed = await serial(async () => {
        const silences = await readJson<Silence[]>(keys.silences, []);
        const rest = silences.filter((s) => s.id !== id);
        if (rest.length === silences.length) return false;
        await redis.set(keys.silences, JSON.stringify(rest));
        return true;
      });
      if (!removed) return reply.code(404).send({ error: 'not_found', message: `silence ${id} not found` });
      await audit(req, 'silences.delete', id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/channels',
    guarded(tokens, 'admin', { summary: 'Channels, with secrets, URL keys and Feishu hook tokens read back as "[redacted]"', tags: TAGS, response: { 200: ChannelsConfigSchema } }),
    async () => (await readJson<Channel[]>(keys.channels, [])).map(redactChannel),
  );
  app.put(
    '/api/channels',
    guarded(tokens, 'admin', {
      summary: 'Replace the channels (audited); a secret sent back as "[redacted]" keeps the stored value',
      tags: TAGS,
      body: ChannelsConfigSchema,
      response: { 200: ChannelsConfigSchema },
    }),
    async (req, reply) => {
      const body = req.body;
      const ids = body.map((c) => c.id);
      if (new Set(ids).size !== ids.length) return reply.code(400).send({ error: 'invalid_request', message: 'channel ids must be unique' });
      const merged = await serial(async () => {
        const next = mergeRedactedChannels(body, await readJson<Channel[]>(keys.channels, []));
        await redis.set(keys.channels, JSON.stringify(next));
        return next;
      });
      await audit(req, 'channels.put', ids.join(','));
      return merged.map(redactChannel);
    },
  );

  /** Validates and stores the whole list (inside `serial`); the error when it was refused. */
  const storeSchemes = async (req: FastifyRequest, schemes: Scheme[], action: string, target: string): Promise<SchemeError | undefined> => {
    const error = schemeErrors(schemes);
    if (error) return error;
    await redis.set(keys.schemes, JSON.stringify(schemes));
    await audit(req, action, target);
    return undefined;
  };
  const refuse = (reply: FastifyReply, error: SchemeError) => reply.code(400).send({ error: 'invalid_scheme', ...error });
  // Schemes hold no secrets and are how analysts filter: every role may read them; only admins change them.
  app.get(
    '/api/schemes',
    guarded(tokens, 'read', { summary: 'Monitoring schemes (监测方案) the analyzer tags posts with', tags: TAGS, response: { 200: SchemesConfigSchema } }),
    async () => readJson<z.infer<typeof SchemesConfigSchema>>(keys.schemes, []),
  );
  app.put(
    '/api/schemes',
    guarded(tokens, 'admin', {
      summary:
        'Replace the monitoring schemes (audited). Every rule is compiled as the analyzer does; the analyzer applies a change within ANALYZER_SCHEMES_REFRESH_MS, without a restart',
      tags: TAGS,
      body: SchemesConfigSchema,
      response: { 200: SchemesConfigSchema, 400: SCHEME_REFUSED },
    }),
    async (req, reply) => {
      const body = req.body;
      const error = await serial(() => storeSchemes(req, body, 'schemes.put', body.map((s) => s.name).join(',') || '0 schemes'));
      return error ? refuse(reply, error) : body;
    },
  );
  // One scheme by name: create or replace it, keeping the others (and their order).
  app.put(
    '/api/schemes/:name',
    guarded(tokens, 'admin', {
      summary: 'Create or replace one monitoring scheme (audited); validated like PUT /api/schemes; the body’s name, if any, must be the path’s',
      tags: TAGS,
      params: NameParamsSchema,
      body: SchemeSchema.extend({ name: z.string().trim().optional() }),
      response: { 200: SchemeSchema, 400: SCHEME_REFUSED },
    }),
    async (req, reply) => {
      const { name } = req.params;
      const body = req.body;
      if (body.name !== undefined && body.name !== name) return reply.code(400).send({ error: 'invalid_request', message: 'the name in the body differs from the one in the path' });
      const scheme = { ...body, name };
      const outcome = await serial(async (): Promise<SchemeError | 'full' | undefined> => {
        const schemes = await readJson<Scheme[]>(keys.schemes, []);
        const at = schemes.findIndex((s) => s.name === name);
        if (at < 0 && schemes.length >= MAX_SCHEMES) return 'full';
        const next = at < 0 ? [...schemes, scheme] : schemes.map((s, i) => (i === at ? scheme : s));
        return storeSchemes(req, next, 'schemes.upsert', name);
      });
      if (outcome === 'full') return reply.code(400).send({ error: 'invalid_request', message: `at most ${MAX_SCHEMES} schemes` });
      return outcome ? refuse(reply, outcome) : scheme;
    },
  );
  app.delete(
    '/api/schemes/:name',
    guarded(tokens, 'admin', {
      summary: 'Remove a monitoring scheme (audited)',
      tags: TAGS,
      params: NameParamsSchema,
      response: { 204: z.null().describe('Removed'), 404: errorAnswer('No such scheme') },
    }),
    async (req, reply) => {
      const { name } = req.params;
      const removed = await serial(async () => {
        const schemes = await readJson<Scheme[]>(keys.schemes, []);
        const rest = schemes.filter((s) => s.name !== name);
        if (rest.length === schemes.length) return false;
        await redis.set(keys.schemes, JSON.stringify(rest));
        return true;
      });
      if (!removed) return reply.code(404).send({ error: 'not_found', message: `scheme ${name} not found` });
      await audit(req, 'schemes.delete', name);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/audit',
    guarded(tokens, 'admin', { summary: 'The last 200 configuration changes, newest first', tags: TAGS, response: { 200: z.array(AuditRecordSchema) } }),
    async () => (await redis.lrange(keys.audit, 0, 199)).map((r) => JSON.parse(r) as z.infer<typeof AuditRecordSchema>),
  );
}
