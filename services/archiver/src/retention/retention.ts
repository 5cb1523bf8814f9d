import { retentionCutoff, type Archive } from '@tingfeng/archive';
import type { Logger } from '@tingfeng/logger';

/** The first instant kept when keeping `months` months (UTC) up to `nowMs`; undefined when retention is off (0). */
export function retentionHorizonMs(months: number, nowMs: number): number | undefined {
  if (months <= 0) return undefined;
  return Date.parse(`${retentionCutoff(months, nowMs)}-01T00:00:00Z`);
}

/**
 * Drops expired months at start and then every `intervalMs`. Several archivers may run it at once: a partition
 * already dropped is simply not listed any more. A failure is logged and tried again at the next tick.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly archive: Archive,
    private readonly months: number,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly onDropped: (tables: string[]) => void,
  ) {}

  async start(): Promise<void> {
    if (this.months <= 0) return;
    await this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  runOnce(): Promise<void> {
    this.running ??= this.archive
      .applyRetention(this.months)
      .then((dropped) => this.onDropped(dropped))
      .catch((err: unknown) => this.logger.error({ err }, 'retention failed; trying again later'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
