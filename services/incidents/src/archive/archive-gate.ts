import type { Archive } from '@tingfeng/archive';
import { withTimeout } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';
import { ArchiveUnavailableError } from './archive-unavailable-error.js';

/**
 * The states of the incidents service's link to the archive:
 * - `connecting`: migrations not yet applied (PostgreSQL has not answered, or is being retried);
 * - `ready`: migrated; queries go through (a query may still fail if PostgreSQL goes away later);
 * - `stopped`: closed.
 */
export type ArchiveGateState = 'connecting' | 'ready' | 'stopped';

export interface ArchiveGateOptions {
  archive: Archive;
  logger: Logger;
  /** Wait between attempts to migrate while PostgreSQL does not answer. */
  retryMs?: number;
  /** Longest `start` waits for the first attempt (a server that drops packets would otherwise hold the start). */
  startWaitMs?: number;
}

/**
 * Opens the archive for the API without making the incident core wait on it: alerts become incidents and
 * notifications go out whether or not PostgreSQL answers. `start` tries the migrations once and, if they fail,
 * keeps retrying in the background; until they succeed, `get` throws {@link ArchiveUnavailableError} (HTTP 503).
 */
export class ArchiveGate {
  #state: ArchiveGateState = 'connecting';
  #timer: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  readonly #retryMs: number;

  constructor(private readonly options: ArchiveGateOptions) {
    this.#retryMs = options.retryMs ?? 10_000;
  }

  get state(): ArchiveGateState {
    return this.#state;
  }

  /** Tries once now; resolves when that attempt is done or after `startWaitMs`, whichever is first. Failures are retried in the background. */
  async start(): Promise<void> {
    await withTimeout(this.#attempt(), this.options.startWaitMs ?? 5_000);
  }

  async #attempt(): Promise<void> {
    if (this.#state !== 'connecting') return;
    try {
      await this.options.archive.migrate();
      if (this.#state !== 'connecting') return;
      this.#state = 'ready';
      this.options.logger.info({ schema: this.options.archive.schema }, 'archive ready');
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.#lastError) this.options.logger.warn({ err }, `archive not available (retrying every ${this.#retryMs} ms): search, evidence and reports answer 503`);
      this.#lastError = message;
      if (this.#state === 'connecting') {
        this.#timer = setTimeout(() => void this.#attempt(), this.#retryMs);
        this.#timer.unref();
      }
    }
  }

  /** The archive, or {@link ArchiveUnavailableError} while it is not migrated. */
  get(): Archive {
    if (this.#state !== 'ready') throw new ArchiveUnavailableError('the post archive (PostgreSQL) is not available yet; try again shortly');
    return this.options.archive;
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.options.archive.close();
  }
}
