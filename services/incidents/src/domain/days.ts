import { TZDate } from '@date-fns/tz';
import { addDays, format } from 'date-fns';

/** A calendar day, `YYYY-MM-DD`. */
export type Day = string;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `value` is a real calendar day written `YYYY-MM-DD` (not 2015-02-30). */
export function isDay(value: string): boolean {
  const m = DAY.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value;
}

function midnight(day: Day, timeZone: string): TZDate {
  const m = DAY.exec(day);
  if (!m || !isDay(day)) throw new RangeError(`not a day (YYYY-MM-DD): ${day}`);
  return new TZDate(Number(m[1]), Number(m[2]) - 1, Number(m[3]), timeZone);
}

/** The day's bounds in `timeZone`, epoch ms: from its midnight (inclusive) to the next (exclusive); 23 or 25 h across a DST change. */
export function dayBounds(day: Day, timeZone: string): { startMs: number; endMs: number } {
  const start = midnight(day, timeZone);
  return { startMs: start.getTime(), endMs: addDays(start, 1).getTime() };
}

/** The day `days` after (or, negative, before) `day`. */
export function shiftDay(day: Day, days: number): Day {
  return format(addDays(midnight(day, 'UTC'), days), 'yyyy-MM-dd');
}

/** The day an instant falls on in `timeZone`. */
export function dayOf(ms: number, timeZone: string): Day {
  return format(new TZDate(ms, timeZone), 'yyyy-MM-dd');
}

/**
 * A time bound as the API takes it: an ISO-8601 time with an offset, epoch ms, or a bare day `YYYY-MM-DD` read as
 * its midnight in `timeZone` (the organisation's day, not UTC's). NaN when it is none of these.
 */
export function parseTimeBound(value: string, timeZone: string): number {
  if (isDay(value)) return dayBounds(value, timeZone).startMs;
  if (/^\d{10,14}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) return Number.NaN;
  return Date.parse(value);
}

/** `HH:MM` of an instant in `timeZone`. */
export function clockOf(ms: number, timeZone: string): string {
  return format(new TZDate(ms, timeZone), 'HH:mm');
}
