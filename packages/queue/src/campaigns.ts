// Declared in @tingfeng/contracts (the detector's pure tracker reads them too); kept here for existing importers.
export { CampaignRecordSchema } from '@tingfeng/contracts';
export type { CampaignRecord, CampaignSeries } from '@tingfeng/contracts';
