import { describe, expect, it } from 'vitest';
import { clockOf, dayBounds, dayOf, isDay, parseTimeBound, shiftDay } from './days.js';

describe('days in the organisation’s time zone', () => {
  it('cuts a day at its own midnight', () => {
    expect(dayBounds('2015-10-20', 'Asia/Shanghai')).toEqual({ startMs: Date.parse('2015-10-19T16:00:00Z'), endMs: Date.parse('2015-10-20T16:00:00Z') });
    // 23 hours on the day New York's clocks go forward.
    const dst = dayBounds('2024-03-10', 'America/New_York');
    expect(dst.endMs - dst.startMs).toBe(23 * 3_600_000);
  });

  it('names the day of an instant there, and moves by days', () => {
    expect(dayOf(Date.parse('2015-10-19T16:30:00Z'), 'Asia/Shanghai')).toBe('2015-10-20');
    expect(dayOf(Date.parse('2015-10-19T16:30:00Z'), 'UTC')).toBe('2015-10-19');
    expect(shiftDay('2015-10-01', -1)).toBe('2015-09-30');
    expect(shiftDay('2016-02-28', 1)).toBe('2016-02-29');
    expect(clockOf(Date.parse('2015-10-20T05:03:02Z'), 'Asia/Shanghai')).toBe('13:03');
  });

  it('reads bounds: a bare day as its midnight there, times with an offset as given, epoch ms; nothing else', () => {
    expect(parseTimeBound('2015-10-20', 'Asia/Shanghai')).toBe(Date.parse('2015-10-19T16:00:00Z'));
    expect(parseTimeBound('2015-10-20T08:00:00+08:00', 'UTC')).toBe(Date.parse('2015-10-20T00:00:00Z'));
    expect(parseTimeBound('1445299200000', 'UTC')).toBe(1445299200000);
    expect(parseTimeBound('2015-10-20T08:00:00', 'UTC')).toBeNaN();
    expect(isDay('2015-02-30')).toBe(false);
    expect(() => dayBounds('2015-02-30', 'UTC')).toThrow(RangeError);
  });
});
