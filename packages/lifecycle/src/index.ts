import { ConfigError } from '@tingfeng/config';
import { createLogger, flushLogs, type Logger } from '@tingfeng/logger';

/** What {@link withTimeout} resolves to when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * The promise's value, or {@link TIMED_OUT} once `ms` have passed without one; the timer is cleared either way. The
 * promise itself goes on (nothing here cancels it): a caller that gives up says so to the work, if it must.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the work handed to it one piece at a time, in the order handed: each starts once the one before has settled,
 * fulfilled or rejected. A rejection goes to its own caller only; the work after it still runs.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** A running part of a process: what the composition root returns. */
export interface Service {
  start(): Promise<void>;
  /** Undoes start; safe to call twice. */
  stop(): Promise<void>;
  /** Raised when a part cannot go on; {@link runMain} then stops the service and exits non-zero. */
  readonly fatal?: Fatal;
}

/**
 * What a part of a service raises when it cannot go on (a consumer that crashed on something other than an outage,
 * or an outage longer than it rides out). Crash-only: the process exits non-zero and its supervisor (compose's
 * `restart: unless-stopped`, Kubernetes, `pnpm start`) starts a fresh one. Raised once; later raises are ignored.
 */
export class Fatal {
  private errorValue: Error | undefined;
  private readonly listeners: ((err: Error) => void)[] = [];

  /** The first error raised, if any. */
  get error(): Error | undefined {
    return this.errorValue;
  }

  raise(err: Error): void {
    if (this.errorValue) return;
    this.errorValue = err;
    for (const listener of this.listeners) listener(err);
  }

  /** Calls `listener` on the raise (at once if it has happened). */
  onRaised(listener: (err: Error) => void): void {
    this.listeners.push(listener);
    if (this.errorValue) listener(this.errorValue);
  }
}

/** The exit code of a process that stopped because a part of it could not go on. */
export const EXIT_FATAL = 70;

type Cleanup = () => Promise<void> | void;

/**
 * Cleanups registered by name, run in reverse order of registration, each within a deadline.
 * Every cleanup runs even when an earlier one throws; `run` twice runs them once.
 */
export class ShutdownRegistry {
  private readonly entries: { name: string; fn: Cleanup }[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly perStepTimeoutMs = 10_000,
  ) {}

  register(name: string, fn: Cleanup): void {
    this.entries.push({ name, fn });
  }

  run(): Promise<void> {
    this.running ??= this.runAll();
    return this.running;
  }

  private async runAll(): Promise<void> {
    for (const { name, fn } of [...this.entries].reverse()) {
      try {
        if ((await withTimeout(Promise.resolve().then(fn), this.perStepTimeoutMs)) === TIMED_OUT) {
          throw new Error(`timed out after ${this.perStepTimeoutMs} ms`);
        }
        this.logger.debug({ step: name }, 'stopped');
      } catch (err) {
        this.logger.error({ step: name, err }, 'shutdown step failed');
      }
    }
  }
}

export interface MainOptions<C> {
  /** Component name for logs. */
  name: string;
  /** Reads and validates the settings; a {@link ConfigError} becomes one line on stderr and exit 78. */
  loadConfig: () => C;
  /** The composition root: builds the service from its settings. */
  build: (config: C) => Promise<Service> | Service;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

/**
 * Runs a service as the process's main job: loads its settings, builds it, starts it, stops it on SIGTERM or SIGINT
 * within the settings' `SHUTDOWN_GRACE_MS` (25 s if it has none) and exits 0; a second signal forces exit. A part
 * that cannot go on (`service.fatal`) stops it the same way and exits {@link EXIT_FATAL} (crash-only). A
 * configuration error prints one line naming the variable and exits 78 (EX_CONFIG), never a stack trace.
 */
export async function runMain<C extends { SHUTDOWN_GRACE_MS?: number }>(options: MainOptions<C>): Promise<void> {
  const logger = createLogger(options.name);
  let service: Service;
  let graceMs = DEFAULT_SHUTDOWN_GRACE_MS;
  try {
    const config = options.loadConfig();
    graceMs = config.SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS;
    service = await options.build(config);
  } catch (err) {
    failStartup(err, logger);
    return;
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      flushLogs();
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal, graceMs }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error({ graceMs }, 'graceful stop exceeded its deadline: exiting');
      flushLogs();
      process.exit(1);
    }, graceMs);
    deadline.unref();
    service
      .stop()
      .then(() => {
        logger.info('stopped');
        flushLogs();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'stop failed');
        flushLogs();
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  service.fatal?.onRaised((err) => {
    if (stopping) return;
    stopping = true;
    logger.fatal({ err }, `cannot go on: stopping and exiting ${EXIT_FATAL} so the supervisor starts a fresh process`);
    const deadline = setTimeout(() => {
      flushLogs();
      process.exit(EXIT_FATAL);
    }, graceMs);
    deadline.unref();
    service
      .stop()
      .catch((stopErr: unknown) => logger.error({ err: stopErr }, 'stop after a fatal error failed'))
      .finally(() => {
        flushLogs();
        process.exit(EXIT_FATAL);
      });
  });
  try {
    await service.start();
    logger.info('started');
  } catch (err) {
    logger.error({ err }, 'start failed');
    await service.stop().catch(() => undefined);
    flushLogs();
    process.exit(1);
  }
}

function failStartup(err: unknown, logger: Logger): void {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  logger.error({ err }, 'failed to build the service');
  flushLogs();
  process.exit(1);
}
