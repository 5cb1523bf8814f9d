import { bearerToken, matchToken } from '@tingfeng/config';
import type { Role } from '@tingfeng/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiToken } from '../config.js';

/** What a caller may do. analyst: read + note; oncall: + operate (ack, resolve, assign, response); admin: everything. */
export const PERMISSIONS = ['read', 'note', 'operate', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The one statement of what each role may do: the routes check it, and the dashboard reads it from /api/whoami. */
const GRANTS: Record<Role, readonly Permission[]> = {
  analyst: ['read', 'note'],
  oncall: ['read', 'note', 'operate'],
  admin: ['read', 'note', 'operate', 'admin'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** Everything `role` may do. */
export function permissionsOf(role: Role): Permission[] {
  return [...GRANTS[role]];
}

/** The caller as the audit trail names it. */
export interface Principal {
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Finds a token without leaking, through timing, how much of a guess was right. */
export function findToken(tokens: readonly ApiToken[], candidate: string): ApiToken | undefined {
  return tokens[matchToken(tokens.map((t) => t.token), candidate)];
}

/** Another way to name the caller than a bearer token (the SSE ticket); undefined when the request carries none that is valid. */
export type AlternativeAuth = (req: FastifyRequest) => Promise<Principal | undefined>;

/**
 * An onRequest hook requiring `permission`: 401 without a known bearer token, 403 when the token's role lacks it.
 * Without an Authorization header, `alternative` may name the caller (`GET /api/stream?ticket=`); tokens are never
 * read from the query string, where proxies, logs and browser history keep them.
 */
export function requires(tokens: readonly ApiToken[], permission: Permission, alternative?: AlternativeAuth) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const candidate = bearerToken(req.headers.authorization);
    const token = candidate ? findToken(tokens, candidate) : undefined;
    const principal = token ? { name: token.principal, role: token.role } : !candidate && alternative ? await alternative(req) : undefined;
    if (!principal) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid bearer token is required' });
      return;
    }
    req.principal = principal;
    if (!can(principal.role, permission)) {
      await reply.code(403).send({ error: 'forbidden', message: `role ${principal.role} may not ${permission}` });
    }
  };
}
