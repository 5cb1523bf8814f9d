import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

/** The logger every component receives. A pino logger; the alias keeps pino out of other packages' signatures. */
export type Logger = PinoLogger;

/** Paths whose values are replaced before a line is written: tokens, bot keys and signing secrets never reach logs. */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'apiKey',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.secrets',
  '*.apiKey',
  '*.authorization',
  '*.webhookUrl',
  '*.signingSecret',
  'req.headers.authorization',
  'headers.authorization',
  'config.API_TOKENS',
  'config.INGEST_TOKENS',
  'config.NOTIFIER_OPS_TOKEN',
  'config.NOTIFY_DEFAULT_WEBHOOK_SECRET',
  'config.WEBHOOK_SECRET',
  'config.apiTokens',
  // ioredis errors carry the refused command's arguments: whole checkpoints (megabytes) and alert payloads.
  'err.command.args',
  '*.err.command.args',
];

export interface LoggerSettings {
  /** pino level; defaults to LOG_LEVEL or `info`. */
  level?: string;
  /** Pretty output; defaults to true only when stdout is a terminal. */
  pretty?: boolean;
}

let root: Logger | undefined;

/**
 * The process's root logger: NDJSON to stdout, pretty only on a terminal, secrets redacted.
 * Created once; later calls return the same logger.
 */
export function rootLogger(settings: LoggerSettings = {}): Logger {
  if (root) return root;
  const pretty = settings.pretty ?? (process.stdout.isTTY === true && process.env.CI !== 'true');
  const options: LoggerOptions = {
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  root = pretty
    ? pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } })
    : pino(options);
  return root;
}

/** A child logger for one component: every line carries `component`. */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}

/** Writes buffered lines before exit. */
export function flushLogs(): void {
  root?.flush();
}
