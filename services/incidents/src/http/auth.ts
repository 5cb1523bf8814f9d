import { matchToken } from '@tingfeng/config';
import type { Role } from '@tingfeng/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiToken } from '../config.js';

/** What a caller may do. analyst: read + note; oncall: + operate (ack, resolve, assign, response); admin: everything. */
export type Permission = 'read' | 'note' | 'operate' | 'admin';

const GRANTS: Record<Role, readonly Permission[]> = {
  analyst: ['read', 'note'],
  oncall: ['read', 'note', 'operate'],
  admin: ['read', 'note', 'operate', 'admin'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
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

/**
 * A preHandler requiring `permission`: 401 without a known bearer token, 403 when the token's role lacks it.
 * `allowQueryToken` accepts `?token=` too, for EventSource, which cannot set headers.
 */
export function requires(tokens: readonly ApiToken[], permission: Permission, allowQueryToken = false) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let candidate = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!candidate && allowQueryToken) {
      const q = (req.query as Record<string, unknown> | undefined)?.['token'];
      if (typeof q === 'string') candidate = q;
    }
    const token = candidate ? findToken(tokens, candidate) : undefined;
    if (!token) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid bearer token is required' });
      return;
    }
    req.principal = { name: token.principal, role: token.role };
    if (!can(token.role, permission)) {
      await reply.code(403).send({ error: 'forbidden', message: `role ${token.role} may not ${permission}` });
    }
  };
}
