import { describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { rebuttalCampaign } from '../testing.js';
import { Backtest } from './backtest.js';

function run(backtest: Backtest, posts: Parameters<Backtest['push']>[0][]): Alert[] {
  const out: Alert[] = [];
  for (const p of posts) out.push(...backtest.push(p));
  out.push(...backtest.end());
  return out;
}

describe('Backtest', () => {
  const { posts, record, rebuttalAtMs } = rebuttalCampaign();

  it('reports the official rebuttal (engine) and, with the campaign registered, the narrative still accelerating after it', () => {
    const alerts = run(new Backtest({ campaigns: [record] }), posts);
    const responses = alerts.filter((a) => a.type === 'response');
    // The city's rebuttal series answering the dying-city story, as the engine reports it.
    expect(responses.some((a) => a.key.startsWith('response:story:') && a.title.includes('昆明发布'))).toBe(true);
    const campaign = responses.filter((a) => a.key === 'campaign:inc-ghost');
    expect(campaign).toHaveLength(1);
    expect(campaign[0]).toMatchObject({ incidentKey: 'cascade:ghost-root', accounts: ['昆明发布'], observed: 26 });
    // Fired on the bucket ending two hours after the response, once event time entered the next one.
    expect(Date.parse(campaign[0]!.window!.end)).toBe(rebuttalAtMs + 2 * 3_600_000);
    // Without the registration: no campaign alert, the rest unchanged.
    const without = run(new Backtest(), posts);
    expect(without).toEqual(alerts.filter((a) => a.key !== 'campaign:inc-ghost'));
  });

  it('refuses a lone far-future post without letting it move event time', () => {
    const clean = run(new Backtest({ campaigns: [record] }), posts);
    const poisoned = [...posts];
    poisoned.splice(1000, 0, { ...posts[1000]!, id: 'typo', createdAtMs: Date.parse('2999-10-20T08:00:00Z'), createdAt: '2999-10-20T08:00:00.000Z' });
    const backtest = new Backtest({ campaigns: [record] });
    expect(run(backtest, poisoned)).toEqual(clean);
    expect(backtest.counts()).toEqual({ accepted: posts.length, refusedFuture: 1 });
  });
});
