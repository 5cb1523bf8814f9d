import type { Incident } from '@tingfeng/contracts';
import type { NotificationItem } from '../types.js';

/** An incident like the seed's "dying city" story, for tests and demos. */
export function sampleIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-20151020-0001',
    key: 'story:昆明|死去|城市',
    type: 'story',
    status: 'triggered',
    severity: 'critical',
    title: '“昆明是一座正在死去的城市”话题爆发',
    openedAt: '2015-10-20T01:30:00.000Z',
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    alerts: [
      {
        id: 'a1',
        key: 'story:昆明|死去|城市',
        type: 'story',
        at: '2015-10-20T01:30:00.000Z',
        severity: 'warning',
        title: '“昆明是一座正在死去的城市”话题爆发',
        terms: ['昆明', '死去'],
        postIds: ['3900000000000001', '3900000000000002'],
        observed: 120,
        expected: 10,
      },
      {
        id: 'a2',
        key: 'story:昆明|死去|城市',
        type: 'story',
        at: '2015-10-20T02:00:00.000Z',
        severity: 'critical',
        title: '“昆明是一座正在死去的城市”话题爆发',
        terms: ['昆明', '城市', '死去', '没落'],
        postIds: ['3900000000000007', '3900000000000001', '3900000000000009', '3900000000000011', '3900000000000012', '3900000000000013'],
        observed: 860,
        expected: 40,
      },
    ],
    ...overrides,
  };
}

export function sampleItem(overrides: Partial<NotificationItem> = {}): NotificationItem {
  return { eventId: 'evt-opened-1', change: 'opened', incident: sampleIncident(), ...overrides };
}
