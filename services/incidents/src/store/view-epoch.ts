import { randomUUID } from 'node:crypto';
import type { Logger } from '@tingfeng/logger';
import type { RedisKeys } from '@tingfeng/queue';
import type { Redis } from '@tingfeng/redis';
import { ViewLostError } from './view-lost-error.js';

export interface ViewEpochOptions {
  redis: Redis;
  keys: RedisKeys;
  /** Wall time between two checks that the generation is still in Redis (INCIDENT_VIEW_CHECK_MS). */
  checkMs: number;
  logger: Logger;
  /** Called once, when the generation is found gone: the process exits and a fresh one rebuilds the view. */
  onLost: (err: ViewLostError) => void;
}

/**
 * State of the watch: `initialized` until {@link ViewEpoch.open}; `watching` while the generation this process opened
 * is in Redis; `lost` once it was found gone or replaced (terminal: only a fresh process rebuilds); `stopped`.
 */
export type ViewEpochState = 'initialized' | 'watching' | 'lost' | 'stopped';

/**
 * The generation of the incident view, kept in Redis beside it (`{p}view-epoch`), so that a wipe of that Redis
 * (FLUSHALL, a restart without persistence, a failover to an empty replica) is noticed while the service runs.
 * Without it the applier would go on writing into an empty view and the alert worker would group alerts against it,
 * opening in the log a second incident for a key already open; with it, any decision taken from a view that may have
 * been wiped is refused ({@link verify}) and the process exits, and the next one rebuilds the view from the log.
 *
 * Why checking after reading is enough: a wipe removes the view and this key in one command, so if the key is still
 * there after a read of the view, that read saw the view whole.
 */
export class ViewEpoch {
  private idValue: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  state: ViewEpochState = 'initialized';

  constructor(private readonly options: ViewEpochOptions) {}

  /** The generation this process holds, once opened. */
  get id(): string | undefined {
    return this.idValue;
  }

  /**
   * Adopts the generation in Redis, or starts one when there is none (a first start, or after a wipe: the caller has
   * already removed whatever was left of the view). Returns whether it started one.
   */
  async open(): Promise<{ id: string; started: boolean }> {
    const { redis, keys } = this.options;
    const candidate = randomUUID();
    const started = (await redis.hsetnx(keys.viewEpoch, 'id', candidate)) === 1;
    if (started) await redis.hset(keys.viewEpoch, 'startedAt', new Date().toISOString());
    const id = await redis.hget(keys.viewEpoch, 'id');
    if (id === null) throw new ViewLostError('the view epoch was removed while it was being opened');
    this.idValue = id;
    this.state = 'watching';
    return { id, started };
  }

  /** Records that the view holds the whole log (the notifier's escalations wait for it before calling an incident missing). */
  async markCaughtUp(): Promise<void> {
    await this.verify();
    await this.options.redis.hset(this.options.keys.viewEpoch, 'caughtUpAt', new Date().toISOString());
  }

  /**
   * Resolves if the generation this process opened is still in Redis; otherwise reports the loss (once) and throws
   * {@link ViewLostError}. A Redis error is thrown as it is: an outage is not a wipe.
   */
  async verify(): Promise<void> {
    if (this.state === 'lost') throw new ViewLostError('the incident view was wiped; this process is stopping');
    const found = await this.options.redis.hget(this.options.keys.viewEpoch, 'id');
    if (found === this.idValue) return;
    const err = new ViewLostError(
      found === null ? 'the incident view was wiped (its epoch key is gone)' : 'the incident view was started again by another process (its epoch changed)',
    );
    this.lose(err);
    throw err;
  }

  /** Checks every `checkMs` until stopped or lost; one check at a time, so an outage does not pile them up. */
  start(): void {
    const { checkMs, logger } = this.options;
    const tick = () => {
      this.timer = undefined;
      if (this.state !== 'watching') return;
      this.verify()
        .catch((err: unknown) => {
          if (!(err instanceof ViewLostError)) logger.warn({ err }, 'view epoch check failed; trying again');
        })
        .finally(() => {
          if (this.state === 'watching') this.timer = setTimeout(tick, checkMs).unref();
        });
    };
    this.timer = setTimeout(tick, checkMs).unref();
  }

  stop(): void {
    if (this.state === 'watching') this.state = 'stopped';
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private lose(err: ViewLostError): void {
    if (this.state === 'lost') return;
    this.state = 'lost';
    clearTimeout(this.timer);
    this.options.logger.error({ err, epoch: this.idValue }, 'incident view lost: exiting so that a fresh process rebuilds it from incident-events');
    this.options.onLost(err);
  }
}
