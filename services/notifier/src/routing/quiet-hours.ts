/** A daily window in local time, `HH:MM` each; `start > end` spans midnight. */
export interface QuietHours {
  start: string;
  end: string;
  timeZone?: string | undefined;
}

/** Parses `HH:MM-HH:MM` (the NOTIFY_QUIET_HOURS form). */
export function parseQuietHours(value: string | undefined, timeZone: string): QuietHours | undefined {
  if (!value) return undefined;
  const [start, end] = value.split('-');
  return start && end ? { start, end, timeZone } : undefined;
}

const minutes = (hhmm: string): number => {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

/** Minutes since local midnight and the seconds into the minute, at wall time `nowMs` in `timeZone`. */
function localClock(nowMs: number, timeZone: string): { minuteOfDay: number; secondMs: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(nowMs))
      .map((p) => [p.type, p.value]),
  );
  return { minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute), secondMs: Number(parts.second) * 1000 + (nowMs % 1000) };
}

/**
 * When the quiet hours in force at wall time `nowMs` end (epoch ms), or undefined outside them.
 * An empty window (`start == end`) is never quiet.
 */
export function quietUntilMs(quiet: QuietHours | undefined, nowMs: number, defaultTimeZone = 'Asia/Shanghai'): number | undefined {
  if (!quiet) return undefined;
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  if (start === end) return undefined;
  const { minuteOfDay, secondMs } = localClock(nowMs, quiet.timeZone ?? defaultTimeZone);
  const inside = start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (!inside) return undefined;
  const minutesLeft = (end - minuteOfDay + 1440) % 1440;
  return nowMs + minutesLeft * 60_000 - secondMs;
}
