import { TIMED_OUT, withTimeout } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';
import type { Lease, LeaderLock } from './lock.js';

/**
 * `created` → `standby` (polling for the lock) ⇄ `leader` (renewing it) → `stopped`.
 * A leader whose renewal fails goes back to `standby` and polls again.
 */
export type ElectorState = 'created' | 'standby' | 'leader' | 'stopped';

export interface LeaderElectorOptions {
  lock: LeaderLock;
  /** Unique name of this process in the lock. */
  owner: string;
  /** Lock TTL: without a confirmed renewal for this long, the lease is treated as lost. */
  ttlMs: number;
  renewIntervalMs: number;
  pollIntervalMs: number;
  logger: Logger;
  /** Called when the lock is won. Not awaited by the renewal loop, so renewals go on while the leader starts. */
  onElected: (lease: Lease) => void;
  /** Called at once when the lease is lost (renewal refused, or unconfirmed for a whole TTL). */
  onLost: (lease: Lease) => void;
}

/** Runs the election: a standby polls for the lock, the leader renews it; one timer, never two requests at once. */
export class LeaderElector {
  private stateValue: ElectorState = 'created';
  private leaseValue: Lease | undefined;
  /** Wall time until which the last confirmed renewal (counted from when it was sent) keeps the lease ours. */
  private leaseValidUntilWallMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeaderElectorOptions) {}

  get state(): ElectorState {
    return this.stateValue;
  }

  get lease(): Lease | undefined {
    return this.leaseValue;
  }

  start(): void {
    if (this.stateValue !== 'created') return;
    this.stateValue = 'standby';
    this.schedule(0);
  }

  /** Stops polling and renewing. The lock is not released here: the caller does it after its last checkpoint. */
  async stop(): Promise<void> {
    this.stateValue = 'stopped';
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /**
   * Steps down now (its consumer gave up): fires onLost, gives the lock back if still ours, and polls again. With
   * `lease`, only if that is still the lease held: a late word from the consumer of an earlier leadership must not
   * depose the current one.
   */
  resign(expected?: Lease): void {
    const lease = this.leaseValue;
    if (this.stateValue !== 'leader' || !lease) return;
    if (expected && expected !== lease) return;
    this.lose(lease);
    this.options.lock.release(lease).catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stateValue === 'stopped') return;
    this.timer = setTimeout(() => {
      this.inFlight = this.tick().finally(() => this.schedule(this.stateValue === 'leader' ? this.options.renewIntervalMs : this.options.pollIntervalMs));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { lock, owner, ttlMs, logger } = this.options;
    if (this.stateValue === 'standby') {
      const sentWallMs = Date.now();
      let lease: Lease | undefined;
      try {
        lease = await lock.tryAcquire(owner);
      } catch (err) {
        logger.warn({ err }, 'could not poll the leader lock');
        return;
      }
      if (!lease) return;
      // An answer that took a whole TTL may describe a lock that has already expired: let it lapse.
      if (Date.now() >= sentWallMs + ttlMs) return;
      if (this.stateValue !== 'standby') {
        // Stopped while the request was out: give the lock back at once.
        await lock.release(lease).catch(() => undefined);
        return;
      }
      this.leaseValue = lease;
      this.leaseValidUntilWallMs = sentWallMs + ttlMs;
      this.stateValue = 'leader';
      logger.info({ owner, fencingToken: lease.token }, 'elected leader');
      this.options.onElected(lease);
    } else if (this.stateValue === 'leader' && this.leaseValue) {
      const lease = this.leaseValue;
      const sentWallMs = Date.now();
      let renewed: boolean | undefined;
      try {
        // The Redis client queues commands through an outage, so the wait is bounded by what is left of the lease.
        const answer = await withTimeout(lock.renew(lease), Math.max(0, this.leaseValidUntilWallMs - sentWallMs));
        renewed = answer === TIMED_OUT ? undefined : answer;
      } catch (err) {
        logger.warn({ err }, 'could not renew the leader lock');
      }
      if (this.stateValue !== 'leader') return;
      if (renewed === true) {
        this.leaseValidUntilWallMs = sentWallMs + ttlMs;
        return;
      }
      // Refused, or unanswered for a whole TTL: another instance may lead now.
      if (renewed === false || Date.now() >= this.leaseValidUntilWallMs) this.lose(lease);
    }
  }

  private lose(lease: Lease): void {
    this.options.logger.warn({ fencingToken: lease.token }, 'lost the leader lock');
    this.leaseValue = undefined;
    this.stateValue = 'standby';
    this.options.onLost(lease);
  }
}

