import type { CampaignRecord } from '@tingfeng/contracts';
import { rankTerms, type IncidentView } from './incident-view.js';

/** Narrative terms a campaign record carries: enough to recognise the conversation, few enough to stay specific. */
export const CAMPAIGN_TERMS = 10;

/**
 * The campaign the detector tracks for an incident answered by a response campaign, or undefined without one.
 * Terms come from the narrative's alerts only: a `response` alert's terms are the organisation's own words.
 */
export function campaignRecordOf(view: IncidentView): CampaignRecord | undefined {
  if (!view.response) return undefined;
  const narrative = view.alerts.filter((a) => a.type !== 'response');
  const rootIds = [...new Set(narrative.filter((a) => a.type === 'cascade' && typeof a.rootId === 'string').map((a) => a.rootId as string))];
  return {
    incidentId: view.id,
    incidentKey: view.key,
    title: view.title,
    terms: rankTerms(narrative).slice(0, CAMPAIGN_TERMS),
    rootIds,
    accounts: view.response.accounts,
    startedAt: view.response.startedAt,
  };
}
