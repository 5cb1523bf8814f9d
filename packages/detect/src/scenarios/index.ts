export { allScenarios, campaignScenario, dailyPeakScenario, demoPosts, dyingCityScenario, growingCampaignScenario, outOfOrderScenario, slowPostScenario, spamScenario, toRawPost, twoStoriesScenario, unseenStreamScenario, SCENARIO_EPOCH_MS } from './generate.js';
export type { LabelledEvent, RawPost, Scenario } from './generate.js';
export { runScenario, scoreScenario, topTenthCascades } from './score.js';
export type { ScenarioScore } from './score.js';
