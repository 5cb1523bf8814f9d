import { describe, expect, it } from 'vitest';
import { decodeIncidentView, type Incident } from './incident.js';

const incident: Incident = {
  id: 'inc1',
  key: 'cascade:r1',
  type: 'cascade',
  status: 'triggered',
  severity: 'warning',
  title: 't',
  openedAt: '2015-10-20T05:00:00.000Z',
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  alerts: [{ id: 'a1', key: 'cascade:r1', type: 'cascade', at: '2015-10-20T02:00:00.000Z', severity: 'warning', title: 't', terms: [], postIds: [] }],
};

describe('decodeIncidentView', () => {
  it('reads the Incident out of the stored view, without the timeline and service fields', () => {
    const view = { ...incident, timeline: [{ eventId: 'e1', seq: 1 }], timelineCount: 1, lastAlertAt: incident.openedAt };
    expect(decodeIncidentView(JSON.stringify(view))).toEqual(incident);
  });

  it('refuses a view that is not an incident', () => {
    expect(decodeIncidentView(JSON.stringify({ ...incident, status: 'closed' }))).toBeUndefined();
    expect(decodeIncidentView('not json')).toBeUndefined();
  });
});
