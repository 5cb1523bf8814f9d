import { SchemeSchema, type SchemeConfig } from '@tingfeng/contracts';
import type { Logger } from '@tingfeng/logger';
import type { Redis } from '@tingfeng/redis';
import type { Scheme, SchemeMatcher } from '@tingfeng/text';

/** Options of {@link SchemeSource}. */
export interface SchemeSourceOptions {
  redis: Redis;
  /** Key holding the JSON array of schemes (written by the incidents API). */
  key: string;
  /** How often the key is read. */
  refreshMs: number;
  /** Applies a new set of schemes; the analyzer's `setSchemes`. */
  apply: (schemes: readonly Scheme[]) => SchemeMatcher;
  logger: Logger;
  /** Told after every change applied: how many schemes are active and how many were skipped. */
  onApplied?: (active: number, invalid: number) => void;
}

/** `idle` before start; `polling` while the timer runs; `stopped` after stop (final). */
export type SchemeSourceState = 'idle' | 'polling' | 'stopped';

/**
 * Keeps the analyzer's monitoring schemes in step with Redis without a restart: a GET every `refreshMs`, compared
 * as a string with the last value seen, so an unchanged configuration costs one round trip and no recompilation.
 * A missing key means no schemes. Never throws into the worker: a value that is not a JSON array is logged (once
 * per distinct value) and the current schemes are kept; a scheme that fails the contract's `SchemeSchema` or does not
 * compile is logged once and skipped, the rest apply; a Redis error is logged and retried at the next tick.
 */
export class SchemeSource {
  private stateValue: SchemeSourceState = 'idle';
  private timer: NodeJS.Timeout | undefined;
  private lastRaw: string | null | undefined;
  private inFlight: Promise<boolean> | undefined;

  constructor(private readonly options: SchemeSourceOptions) {}

  get state(): SchemeSourceState {
    return this.stateValue;
  }

  /** Loads the schemes once (so the first post is already tagged), then polls. */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle') return;
    await this.refresh();
    if (this.isStopped()) return; // stopped while the first read was in flight
    this.stateValue = 'polling';
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  /** Reads the key now; resolves true when new schemes were applied. Concurrent calls share one read. */
  refresh(): Promise<boolean> {
    this.inFlight ??= this.readAndApply().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Stops polling. Safe to call twice. A read in flight is not awaited: with the shared client's unlimited retries
   * it could wait out a Redis outage, and applying its result late to a stopping analyzer is harmless.
   */
  stop(): void {
    this.stateValue = 'stopped';
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private isStopped(): boolean {
    return this.stateValue === 'stopped';
  }

  private async readAndApply(): Promise<boolean> {
    const { redis, key, logger } = this.options;
    let raw: string | null;
    try {
      raw = await redis.get(key);
    } catch (err) {
      logger.warn({ err, key }, 'could not read monitoring schemes; keeping the current ones');
      return false;
    }
    if (raw === this.lastRaw) return false;
    this.lastRaw = raw;
    let stored: unknown;
    try {
      stored = raw === null ? [] : JSON.parse(raw);
    } catch (err) {
      logger.error({ key, err }, 'monitoring schemes are not valid JSON; keeping the current ones');
      return false;
    }
    if (!Array.isArray(stored)) {
      logger.error({ key }, 'monitoring schemes must be a JSON array; keeping the current ones');
      return false;
    }
    // Each entry through the contract on its own, so one malformed scheme does not take the others with it.
    const schemes: SchemeConfig[] = [];
    let malformed = 0;
    stored.forEach((entry: unknown, index) => {
      const parsed = SchemeSchema.safeParse(entry);
      if (parsed.success) return void schemes.push(parsed.data);
      malformed++;
      logger.error({ key, scheme: schemeLabel(entry, index), err: parsed.error }, 'monitoring scheme skipped: not a valid scheme');
    });
    const matcher = this.options.apply(schemes);
    for (const bad of matcher.invalid) {
      logger.error({ key, scheme: bad.name, error: bad.error, position: bad.position }, 'monitoring scheme skipped');
    }
    const skipped = malformed + matcher.invalid.length;
    logger.info({ key, active: matcher.names.length, skipped, keywords: matcher.keywordCount }, 'monitoring schemes applied');
    this.options.onApplied?.(matcher.names.length, skipped);
    return true;
  }
}

/** The stored entry's name when it has one, else its place in the array (as compileSchemes names it). */
function schemeLabel(entry: unknown, index: number): string {
  const name = typeof entry === 'object' && entry !== null && 'name' in entry ? entry.name : undefined;
  return typeof name === 'string' && name.trim().length > 0 ? name : `#${index}`;
}
