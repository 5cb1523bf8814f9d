import { createHash, randomBytes } from 'node:crypto';
import { ROLES, type Role } from '@tingfeng/contracts';
import type { Redis } from '@tingfeng/redis';
import type { Principal } from './auth.js';

/**
 * Single-use, short-lived tickets for `GET /api/stream?ticket=`. EventSource cannot send an Authorization header,
 * so something must ride in the URL; a ticket is worthless once used or `ttlMs` old, where a bearer token in the
 * URL would sit in proxy logs and browser history for as long as the token lives. Kept in Redis (only a hash of the
 * ticket is the key), so a ticket taken from one instance works on any.
 */
export class StreamTickets {
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (ticketHash: string) => string,
    readonly ttlMs: number,
  ) {}

  /** A new ticket standing for `principal`, and when it stops being accepted. */
  async issue(principal: Principal, nowMs = Date.now()): Promise<{ ticket: string; expiresAt: string }> {
    const ticket = randomBytes(32).toString('base64url');
    await this.redis.set(this.keyOf(hash(ticket)), JSON.stringify({ name: principal.name, role: principal.role }), 'PX', this.ttlMs);
    return { ticket, expiresAt: new Date(nowMs + this.ttlMs).toISOString() };
  }

  /** The principal a ticket stands for, once: the ticket is gone afterwards. Undefined when unknown, used or expired. */
  async redeem(ticket: string): Promise<Principal | undefined> {
    if (ticket.length === 0 || ticket.length > 100) return undefined;
    const raw = await this.redis.getdel(this.keyOf(hash(ticket)));
    if (!raw) return undefined;
    try {
      const p = JSON.parse(raw) as { name?: unknown; role?: unknown };
      if (typeof p.name !== 'string' || !(ROLES as readonly unknown[]).includes(p.role)) return undefined;
      return { name: p.name, role: p.role as Role };
    } catch {
      return undefined;
    }
  }
}

function hash(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}
