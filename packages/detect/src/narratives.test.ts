import { describe, expect, it } from 'vitest';
import type { Alert } from '@tingfeng/contracts';
import { createDetectorEngine } from './engine.js';
import { NarrativeLinker } from './narratives.js';
import { dyingCityScenario } from './scenarios/index.js';

const alert = (key: string, terms: string[], extra: Partial<Alert> = {}): Alert => ({
  id: key,
  key,
  type: key.split(':')[0]!,
  at: '2015-10-20T02:00:00.000Z',
  severity: 'info',
  title: key,
  terms,
  postIds: [],
  ...extra,
});

describe('NarrativeLinker', () => {
  it('joins alerts sharing two terms, or a single-term alert whose term is known, and keeps unrelated ones apart', () => {
    const linker = new NarrativeLinker(3600_000);
    const [cascade, story, single, other] = linker.link(
      [alert('cascade:r1', ['昆明', '死去', '城市']), alert('story:a', ['死去', '城市', '房价']), alert('story:b', ['死去']), alert('story:c', ['米线', '好吃'])],
      0,
    );
    expect(cascade!.incidentKey).toBe('cascade:r1');
    expect(story!.incidentKey).toBe('cascade:r1');
    expect(single!.incidentKey).toBe('cascade:r1');
    expect(other!.incidentKey).toBe('story:c');
  });

  it('matches a term inside a longer one, as the segmenter keeps 死去的城市 whole but replies burst on 死去', () => {
    const linker = new NarrativeLinker(3600_000);
    const [, story, short] = linker.link([alert('cascade:r1', ['死去的城市', '空心', '昆明']), alert('story:a', ['死去']), alert('story:b', ['死'])], 0);
    expect(story!.incidentKey).toBe('cascade:r1');
    expect(short!.incidentKey).toBe('story:b');
  });

  it('sends a response to the incident of what it answers, and stops gathering once a narrative is idle', () => {
    const linker = new NarrativeLinker(3600_000);
    linker.link([alert('story:a', ['死去', '城市'])], 0);
    const [response] = linker.link([alert('response:story:a', ['生长'], { respondsTo: 'story:a' })], 1000);
    expect(response!.incidentKey).toBe('story:a');
    const [late] = linker.link([alert('story:z', ['死去', '城市'])], 2 * 3600_000);
    expect(late!.incidentKey).toBe('story:z');
  });

  it('sends a story bursting in an alerted cascade\'s tree to the cascade\'s incident, whatever its words; an unalerted root links nothing', () => {
    const linker = new NarrativeLinker(3600_000);
    linker.link([alert('cascade:r1', ['死去', '城市'])], 0);
    const [inTree, elsewhere] = linker.link([alert('story:a', ['昆明保卫战', '热爱'], { rootId: 'r1' }), alert('story:b', ['米线', '好吃'], { rootId: 'r2' })], 1000);
    expect(inTree!.incidentKey).toBe('cascade:r1');
    expect(elsewhere!.incidentKey).toBe('story:b');
    // Only stories follow a root this way: a cascade alert's rootId is its own root.
    const [cascade] = linker.link([alert('cascade:r3', ['滇池', '海鸥'], { rootId: 'r3' })], 2000);
    expect(cascade!.incidentKey).toBe('cascade:r3');
  });
});

describe('the dying-city episode', () => {
  it('gathers the cascade, the stories bursting from its words and the official response into one incident', () => {
    const engine = createDetectorEngine();
    const alerts = dyingCityScenario().posts.flatMap((p) => engine.process(p));
    const cascade = alerts.find((a) => a.type === 'cascade');
    expect(cascade).toBeDefined();
    const incident = cascade!.incidentKey;
    const story = alerts.find((a) => a.type === 'story' && a.terms.includes('死去'));
    const response = alerts.find((a) => a.type === 'response');
    expect(story?.incidentKey).toBe(incident);
    expect(response?.incidentKey).toBe(incident);
    // Every alert carries the link, and a snapshot round trip keeps it.
    expect(alerts.every((a) => typeof a.incidentKey === 'string')).toBe(true);
    // The public's turn (#昆明保卫战#, 理性看待发展) bursts in other words, partly in the replies to the viral post:
    // it belongs to the same incident, as a story naming the root.
    const turn = alerts.filter((a) => a.type === 'story' && a.terms.includes('昆明保卫战'));
    expect(turn.length).toBeGreaterThan(0);
    for (const a of turn) expect(a.incidentKey).toBe(incident);
    expect(new Set(alerts.map((a) => a.incidentKey)).size).toBeLessThanOrEqual(2);
    const restored = createDetectorEngine({}, engine.snapshot());
    expect(restored.snapshot().narratives).toEqual(engine.snapshot().narratives);
  });
});
