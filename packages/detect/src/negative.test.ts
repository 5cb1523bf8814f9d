import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig } from './config.js';
import { isNegative } from './post.js';

describe('isNegative', () => {
  it('counts a post as negative only when the analyzer is sure enough of it', () => {
    const min = DEFAULT_CONFIG.negativeMinConfidence;
    expect(isNegative({ sentiment: -0.6 }, min)).toBe(true);
    expect(isNegative({ sentiment: -0.1 }, min)).toBe(false);
    expect(isNegative({ sentiment: 0.9 }, min)).toBe(false);
    expect(isNegative({ sentiment: 0 }, 0.5)).toBe(false);
  });

  it('reads the confidence from the score, (1 + |sentiment|) / 2, as the analyzer computes it', () => {
    expect(isNegative({ sentiment: -0.4 }, 0.7)).toBe(true);
    expect(isNegative({ sentiment: -0.39 }, 0.7)).toBe(false);
    expect(isNegative({ sentiment: -0.01 }, 0.5)).toBe(true);
  });

  it('is a checked detector setting', () => {
    expect(resolveConfig({ negativeMinConfidence: 0.9 }).negativeMinConfidence).toBe(0.9);
    expect(() => resolveConfig({ negativeMinConfidence: 0.2 })).toThrow(/negativeMinConfidence/);
  });
});
