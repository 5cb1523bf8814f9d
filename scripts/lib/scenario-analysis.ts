import { validatePost } from '@tingfeng/contracts';
import { toRawPost, type Scenario } from '@tingfeng/detect';
import { createAnalyzer, type Analyzer } from '@tingfeng/text';

/**
 * The scenario as the live system would see it: each generated post turned back into what a crawler delivers
 * (`toRawPost`) and enriched by the real analyzer (jieba, the project's dictionary, spam rules, sentiment), so the
 * detectors are scored on the analyzer's tokens and verdicts rather than on the generator's.
 */
export function throughAnalyzer(scenario: Scenario, analyzer: Analyzer): Scenario {
  const posts = scenario.posts.map((generated) => {
    const raw = toRawPost(generated);
    const checked = validatePost(raw, { receivedAtMs: generated.createdAtMs });
    if (!checked.ok) throw new Error(`scenario ${scenario.name}: post ${generated.id} is not valid: ${checked.detail}`);
    return analyzer.analyze(checked.post);
  });
  return { ...scenario, posts };
}

/** Every scenario through one analyzer. */
export function analyzeScenarios(scenarios: readonly Scenario[]): Scenario[] {
  const analyzer = createAnalyzer({ watchDictionary: false });
  try {
    return scenarios.map((s) => throughAnalyzer(s, analyzer));
  } finally {
    analyzer.close();
  }
}
