import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifySchema, RawServerDefault } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { ArchiveInputError, SearchQueryError } from '@tingfeng/archive';
import { ArchiveUnavailableError } from '../archive/archive-unavailable-error.js';
import { ViewLostError } from '../store/view-lost-error.js';
import type { ApiToken } from '../config.js';
import { requires, type AlternativeAuth, type Permission } from './auth.js';
import { ErrorSchema } from './schemas.js';

/** The fastify instance every route is declared on: request and reply types come from the route's zod schemas. */
export type Api = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** The least role holding each permission, as the document names it. */
const LEAST_ROLE: Record<Permission, string> = { read: 'analyst', note: 'analyst', operate: 'oncall', admin: 'admin' };

/**
 * Makes `app` validate requests and serialise responses with the routes' zod schemas, and answers every failure
 * the same way: 400 `{ error: 'invalid_request', message, issues }` naming where the input is wrong
 * (`querystring.limit: …`), 500 `internal` for an answer its own schema refuses (logged with the issues).
 */
export function configureApi(app: FastifyInstance): Api {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'request';
      const issues = err.validation.map((v) => ({
        in: where,
        path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: v.message ?? 'invalid',
      }));
      const message = issues
        .slice(0, 5)
        .map((i) => `${i.path ? `${i.in}.${i.path}` : i.in}: ${i.message}`)
        .join('; ');
      return reply.code(400).send({ error: 'invalid_request', message, issues });
    }
    if (err instanceof SearchQueryError) {
      return reply.code(400).send({ error: 'invalid_query', message: `querystring.q: ${err.message}`, position: err.position });
    }
    if (err instanceof ArchiveInputError) {
      return reply.code(400).send({ error: 'invalid_request', message: `querystring.${err.message}`, issues: [{ in: 'querystring', path: err.field, message: err.message }] });
    }
    if (err instanceof ArchiveUnavailableError || isDatabaseUnavailable(err)) {
      if (!(err instanceof ArchiveUnavailableError)) req.log.warn({ err, url: req.url.split('?')[0] }, 'archive query failed');
      return reply.code(503).header('retry-after', '10').send({ error: 'archive_unavailable', message: err instanceof ArchiveUnavailableError ? err.message : 'the post archive did not answer in time; try again shortly' });
    }
    if (err instanceof ViewLostError) {
      return reply.code(503).header('retry-after', '10').send({ error: 'view_rebuilding', message: 'the incident view is being rebuilt from the log; try again shortly' });
    }
    if (isResponseSerializationError(err)) {
      req.log.error({ issues: err.cause.issues, url: req.url.split('?')[0] }, 'answer does not match its schema');
      return reply.code(500).send({ error: 'internal', message: 'internal error' });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: 'payload_too_large', message: `the request body is larger than this route takes (${req.routeOptions.bodyLimit ?? 'its limit'} bytes)` });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    // The path only: a query string may carry a stream ticket, which has no place in the logs.
    if (status === 500) req.log.error({ err, url: req.url.split('?')[0] }, 'request failed');
    return reply.code(status).send({ error: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'internal error' : err.message });
  });
  return app.withTypeProvider<ZodTypeProvider>();
}

// PostgreSQL gone (connection refused or reset, server shutting down) or a query past its statement timeout.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '57014']);

function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && UNAVAILABLE_CODES.has(code);
}

/** Options of {@link guarded}. */
export interface GuardOptions {
  /** Without an Authorization header, let this name the caller (the SSE ticket: EventSource cannot set headers). */
  alternative?: AlternativeAuth;
}

/**
 * An error answer as the document shows it: `{ error, message }` (see ErrorSchema) with a description of when it is
 * given. Written in OpenAPI's content form, since a description on the shared schema would be the same for every status.
 */
export function errorAnswer(description: string) {
  return { description, content: { 'application/json': { schema: ErrorSchema } } };
}

type DocumentedSchema = FastifySchema & { summary?: string; description?: string; tags?: string[] };
type ErrorAnswer = ReturnType<typeof errorAnswer>;
type ErrorAnswers = { 400: ErrorAnswer; 401: ErrorAnswer; 403: ErrorAnswer };
/** `S` with the answers every guarded route may give added to its `response`. */
export type Guarded<S extends DocumentedSchema> = Omit<S, 'response'> & {
  security: { bearer: string[] }[];
  response: (S extends { response: infer R } ? R : unknown) & ErrorAnswers;
};

/**
 * Route options for a route that needs `permission`: the token is checked first (`onRequest`, before the input is
 * read or validated: 401 without a known token, 403 when its role lacks the permission), and the OpenAPI
 * operation says which role it takes and documents the 400/401/403 answers. Spread it into the route's options.
 */
export function guarded<S extends DocumentedSchema>(tokens: readonly ApiToken[], permission: Permission, schema: S, options: GuardOptions = {}) {
  const role = LEAST_ROLE[permission];
  const response = (schema.response ?? {}) as Record<string, unknown>;
  const takesInput = schema.querystring !== undefined || schema.params !== undefined || schema.body !== undefined;
  const guardedSchema = {
    ...schema,
    summary: `${schema.summary ?? ''} (role ${role}${role === 'admin' ? '' : ' or above'})`.trim(),
    security: [{ bearer: [] }],
    'x-permission': permission,
    response: {
      ...(takesInput ? { 400: errorAnswer('Invalid input: `message` names each wrong field (`querystring.limit: …`), `issues` lists them') } : {}),
      ...response,
      401: errorAnswer('No bearer token, or an unknown one'),
      403: errorAnswer('The token’s role may not do this'),
    },
  };
  return { onRequest: requires(tokens, permission, options.alternative), schema: guardedSchema as unknown as Guarded<S> };
}
