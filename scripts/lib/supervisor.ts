import type { ChildProcess } from 'node:child_process';

/**
 * `running` (a child is up) → `backing-off` (it exited; the next start is scheduled) → `running` …;
 * `stopping` (stop() sent SIGTERM) → `stopped`. Only stop() ends the cycle: any exit, 0 or not, is restarted.
 */
export type SupervisedState = 'created' | 'running' | 'backing-off' | 'stopping' | 'stopped';

export interface SupervisedOptions {
  /** The service's name, for the console. */
  name: string;
  /** Starts the process; called again for every restart. */
  spawn: () => ChildProcess;
  /** Where the supervisor says what it did (one line each). */
  say: (line: string) => void;
  /** Wait before the first restart; each further one doubles it. Default 1 s. */
  initialBackoffMs?: number;
  /** The longest wait between restarts. Default 30 s. */
  maxBackoffMs?: number;
  /** A child that stayed up this long resets the backoff: its next exit is restarted after the initial wait. Default 30 s. */
  stableAfterMs?: number;
  /** Where its log is, named when it exits. */
  logPath?: string;
}

/**
 * One service run the way compose's `restart: unless-stopped` and a Kubernetes pod's `restartPolicy: Always` run it:
 * whenever it exits it is started again, after a backoff that doubles while it keeps failing (crash-only services
 * exit when they cannot go on; this is what brings them back). The console is told about every exit and restart.
 */
export class Supervised {
  private stateValue: SupervisedState = 'created';
  private childValue: ChildProcess | undefined;
  private startedWallMs = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private restartsValue = 0;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stableAfterMs: number;

  constructor(private readonly options: SupervisedOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 30_000;
    this.backoffMs = this.initialBackoffMs;
  }

  get state(): SupervisedState {
    return this.stateValue;
  }

  get name(): string {
    return this.options.name;
  }

  /** How many times it was started again after an exit. */
  get restarts(): number {
    return this.restartsValue;
  }

  /** The current child, while one is up. */
  get child(): ChildProcess | undefined {
    return this.childValue;
  }

  start(): void {
    if (this.stateValue !== 'created') return;
    this.run();
  }

  /** SIGTERM to the child, SIGKILL after `graceMs`; no restart after it. Safe to call twice. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopping';
    clearTimeout(this.timer);
    const child = this.childValue;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
      });
    }
    this.stateValue = 'stopped';
  }

  private run(): void {
    const child = this.options.spawn();
    this.childValue = child;
    this.startedWallMs = Date.now();
    this.stateValue = 'running';
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.childValue || this.stateValue !== 'running') return;
    this.childValue = undefined;
    if (Date.now() - this.startedWallMs >= this.stableAfterMs) this.backoffMs = this.initialBackoffMs;
    const waitMs = this.backoffMs;
    this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
    this.stateValue = 'backing-off';
    const how = signal ? `killed by ${signal}` : `exit ${code}`;
    const log = this.options.logPath ? `; log: ${this.options.logPath}` : '';
    this.options.say(`! ${this.options.name} exited (${how}); restarting in ${(waitMs / 1000).toFixed(1)} s${log}`);
    this.timer = setTimeout(() => {
      if (this.stateValue !== 'backing-off') return;
      this.restartsValue += 1;
      this.run();
      this.options.say(`↻ ${this.options.name} restarted (restart ${this.restartsValue}, pid ${this.childValue?.pid ?? '?'})`);
    }, waitMs);
  }
}
