import { describe, expect, it } from 'vitest';
import type { Alert } from './alert.js';
import { decodeIncidentEvent, encodeIncidentEvent, MAX_INCIDENT_EVENT_BYTES, type IncidentEvent } from './incident-event.js';

const alert: Alert = { id: 'a1', key: 'cascade:r1', type: 'cascade', at: '2015-10-20T02:00:00.000Z', severity: 'warning', title: 't', terms: ['死去'], postIds: ['p1'] };
const opened: IncidentEvent = { eventId: 'inc1.opened', incidentId: 'inc1', kind: 'opened', actor: 'system:incidents', at: '2015-10-20T05:00:00.000Z', data: { alert, severity: 'warning' } };

describe('incident event encoding', () => {
  it('round-trips an event through its record, keyed by incident with its kind in a header', () => {
    const record = encodeIncidentEvent(opened);
    expect(record.key).toBe('inc1');
    expect(record.headers).toEqual({ kind: 'opened' });
    expect(decodeIncidentEvent(Buffer.from(record.value))).toEqual(opened);
  });

  it('keeps data fields it does not name, and reads a missing actor as unknown', () => {
    const { actor: _actor, ...rest } = opened;
    const decoded = decodeIncidentEvent(JSON.stringify({ ...rest, data: { ...opened.data, later: 1 } }));
    expect(decoded?.actor).toBe('unknown');
    expect(decoded?.data).toMatchObject({ later: 1 });
  });

  it('narrows data by kind', () => {
    const decoded = decodeIncidentEvent(JSON.stringify({ ...opened, kind: 'escalated', data: { level: 2, channels: ['c1'], afterMs: 60_000 } }));
    expect(decoded?.kind === 'escalated' ? decoded.data.level : undefined).toBe(2);
  });

  it('refuses what is not an event: an unknown kind, data of another kind, no id, not JSON, too large', () => {
    expect(decodeIncidentEvent(JSON.stringify({ ...opened, kind: 'exploded' }))).toBeUndefined();
    expect(decodeIncidentEvent(JSON.stringify({ ...opened, kind: 'note_added' }))).toBeUndefined();
    expect(decodeIncidentEvent(JSON.stringify({ ...opened, eventId: undefined }))).toBeUndefined();
    expect(decodeIncidentEvent('{')).toBeUndefined();
    expect(decodeIncidentEvent(null)).toBeUndefined();
    expect(decodeIncidentEvent(' '.repeat(MAX_INCIDENT_EVENT_BYTES + 1))).toBeUndefined();
  });
});
