/**
 * pnpm demo:data — writes the bundled demo input, infra/demo/dying-city.jsonl: the dying-city episode as a crawler
 * would deliver it (two days of Kunming chatter, the "一座正在死去的城市" post and its cascade, the discussion, the official
 * rebuttal series, the public's turn), plus a handful of malformed lines that the analyzer must dead-letter.
 * Deterministic: a test checks the committed file matches this output.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { demoPosts } from '@tingfeng/detect';

export const DEMO_FILE = fileURLToPath(new URL('../infra/demo/dying-city.jsonl', import.meta.url));

/** Lines a real feed also carries now and then: each is refused with a reason, none stops the stream. */
const MALFORMED_LINES = [
  '{"id": "broken-1", "text": "截断的JSON',
  '["not", "an", "object"]',
  '{"id": "no-author", "text": "缺少作者", "createdAt": "2015-10-20T10:00:00+08:00"}',
  '{"id": "bad-time", "text": "时间格式不对", "createdAt": "昨天下午", "author": {"id": "u-x"}}',
  '{"id": "future", "text": "来自未来", "createdAt": "2999-01-01T00:00:00+08:00", "author": {"id": "u-y"}}',
];

export function demoLines(): string[] {
  const lines = demoPosts().map((p) => JSON.stringify(p));
  // Spread the bad lines through the first day rather than bunching them.
  MALFORMED_LINES.forEach((bad, i) => lines.splice((i + 1) * 1000, 0, bad));
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const lines = demoLines();
  writeFileSync(DEMO_FILE, `${lines.join('\n')}\n`);
  process.stderr.write(`wrote ${lines.length} lines to ${DEMO_FILE}\n`);
}
