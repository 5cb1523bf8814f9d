export { createDetectorEngine } from './engine.js';
export type { DetectorEngine, DetectorSnapshot, DetectorStats } from './engine.js';
export { DEFAULT_CONFIG, resolveConfig } from './config.js';
export type { DetectorConfig, ResolvedConfig } from './config.js';
export { normaliseForDuplicates } from './coordination.js';
export { sameTerm } from './narratives.js';
export { simHash, hamming, alertId } from './hash.js';
export { allScenarios, campaignScenario, dailyPeakScenario, demoPosts, dyingCityScenario, outOfOrderScenario, slowPostScenario, spamScenario, toRawPost, runScenario, scoreScenario, topTenthCascades, SCENARIO_EPOCH_MS } from './scenarios/index.js';
export type { LabelledEvent, RawPost, Scenario, ScenarioScore } from './scenarios/index.js';
