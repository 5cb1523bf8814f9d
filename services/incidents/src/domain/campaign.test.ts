import { describe, expect, it } from 'vitest';
import type { Alert, IncidentEvent } from '@tingfeng/contracts';
import { campaignRecordOf } from './campaign.js';
import { applyEvent, type IncidentView } from './incident-view.js';

const alert = (id: string, type: string, terms: string[], extra: Partial<Alert> = {}): Alert => ({
  id,
  key: `${type}:${id}`,
  type,
  at: '2015-10-20T02:00:00.000Z',
  severity: 'warning',
  title: `t ${id}`,
  terms,
  postIds: [],
  ...extra,
});

const by = (eventId: string) => ({ eventId, incidentId: 'inc1', actor: 'tester', at: '2015-10-20T05:00:00.000Z' });
const opened = (eventId: string, a: Alert): IncidentEvent => ({ ...by(eventId), kind: 'opened', data: { alert: a, severity: a.severity } });
const appended = (eventId: string, a: Alert): IncidentEvent => ({ ...by(eventId), kind: 'alert_appended', data: { alert: a, severity: a.severity } });
const responded = (eventId: string, accounts: string[], startedAt: string): IncidentEvent => ({ ...by(eventId), kind: 'response_started', data: { accounts, startedAt } });

function viewOf(events: IncidentEvent[]): IncidentView {
  let view: IncidentView | undefined;
  for (const e of events) view = applyEvent(view, e).view;
  return view!;
}

describe('campaignRecordOf', () => {
  it('is undefined until a response campaign is started', () => {
    expect(campaignRecordOf(viewOf([opened('e1', alert('a1', 'cascade', ['死去']))]))).toBeUndefined();
  });

  it('carries the narrative terms by frequency, the cascade roots and the accounts; response alerts add no terms', () => {
    const view = viewOf([
      opened('e1', alert('a1', 'cascade', ['死去', '城市', '昆明'], { rootId: 'root-1' })),
      appended('e2', alert('a2', 'story', ['死去', '年轻人'])),
      appended('e3', alert('a3', 'response', ['生长', '生长2', '生长3'])),
      responded('e4', ['昆明发布'], '2015-10-20T05:00:00.000Z'),
    ]);
    const record = campaignRecordOf(view)!;
    expect(record).toMatchObject({ incidentId: 'inc1', incidentKey: 'cascade:a1', rootIds: ['root-1'], accounts: ['昆明发布'], startedAt: '2015-10-20T05:00:00.000Z' });
    expect(record.terms[0]).toBe('死去');
    expect(record.terms).toEqual(expect.arrayContaining(['城市', '昆明', '年轻人']));
    expect(record.terms).not.toContain('生长');
  });
});
