/**
 * How often the processing of one message is tried before it is dead-lettered as `processing_failed`. A throw that
 * depends on the message alone repeats on every try; the bound is what keeps it from stalling the partition forever.
 */
export const MAX_PROCESSING_ATTEMPTS = 3;

/** The outcome of {@link attemptBounded}. */
export type Attempted<T> = { ok: true; value: T } | { ok: false; error: string; attempts: number };

/**
 * Runs `work` until it returns, at most `maxAttempts` times, catching what it throws. For the per-message part of a
 * consumer (parse, analyse, serialise), never for calls to Kafka or Redis: those failures are the infrastructure's,
 * and dead-lettering a message for them would lose a valid one.
 */
export function attemptBounded<T>(work: () => T, maxAttempts: number = MAX_PROCESSING_ATTEMPTS): Attempted<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      return { ok: true, value: work() };
    } catch (err) {
      last = err;
    }
  }
  return { ok: false, error: describeError(last), attempts: maxAttempts };
}

/** `Name: message` of a thrown value, cut to `maxChars`, for a dead letter's detail or a log line. */
export function describeError(err: unknown, maxChars = 500): string {
  let text: string;
  if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else {
    try {
      text = `thrown: ${String(err)}`;
    } catch {
      text = 'thrown: (a value that cannot be shown)';
    }
  }
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
