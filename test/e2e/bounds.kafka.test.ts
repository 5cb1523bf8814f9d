import { afterAll, describe, expect, it } from 'vitest';
import { dyingCityAlert, enqueueAlerts, eventually, TEST_TOKENS } from '../../services/incidents/src/testing/fixtures.js';
import { apiClient, IncidentsHarness } from './support/incidents.js';

// The app's info lines would bury vitest's report; warnings and errors still show.
process.env['LOG_LEVEL'] ??= 'warn';

const harness = new IncidentsHarness();
afterAll(() => harness.cleanUp());

describe('bounded growth of the incidents service, through real Kafka, Redis and HTTP', () => {
  it('limits notes in size (413) and rate (429, per caller, with retry-after)', async () => {
    const config = harness.isolated({ INCIDENT_NOTE_MAX_CHARS: '20', INCIDENT_NOTES_PER_MINUTE: '3' });
    const app = await harness.start(config);
    const api = apiClient(app);
    await enqueueAlerts(config, [dyingCityAlert('n1', 'warning')]);
    const incident = await eventually(async () => (await api('GET', '/api/incidents', TEST_TOKENS.analyst)).json?.items?.[0], 30_000, 'an incident');
    const note = (token: string, text: string) => api('POST', `/api/incidents/${incident.id}/notes`, token, { text });

    // Twenty characters is the limit, counted as characters (CJK are one each), not bytes.
    expect((await note(TEST_TOKENS.analyst, '已联系昆明发布'.padEnd(20, '。'))).status).toBe(200);
    const long = await note(TEST_TOKENS.analyst, '昆'.repeat(21));
    expect(long.status).toBe(413);
    expect(long.json).toMatchObject({ error: 'note_too_large', maxChars: 20 });
    expect(long.json.message).toContain('at most 20 characters; this one has 21');
    // A body far beyond any note is refused before it is read whole.
    const huge = await note(TEST_TOKENS.analyst, 'x'.repeat(100_000));
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('payload_too_large');

    // Three a minute per caller: the fourth is refused (a refused too-long note did not count), another caller is not.
    // A window boundary could fall between the notes and reset the count; then the whole round is tried again.
    await eventually(async () => {
      const oncall = [];
      for (let i = 0; i < 4; i++) oncall.push(await note(TEST_TOKENS.oncall, `第${i}条`));
      if (oncall[3]!.status === 200) return undefined;
      expect(oncall.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
      expect(oncall[3]!.status).toBe(429);
      expect(oncall[3]!.json).toMatchObject({ error: 'rate_limited' });
      expect(oncall[3]!.json.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(oncall[3]!.json.message).toContain('at most 3 notes a minute per caller');
      return true;
    }, 130_000, 'a fourth note refused');
    const detail = (await api('GET', `/api/incidents/${incident.id}`, TEST_TOKENS.analyst)).json;
    expect(detail.timeline.filter((e: { kind: string }) => e.kind === 'note_added').length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(detail.timeline)).not.toContain('昆'.repeat(21));
  });
});
