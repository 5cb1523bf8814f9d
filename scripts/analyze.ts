/**
 * pnpm analyze --input <posts.jsonl or -> --out <enriched.jsonl or ->
 *
 * Runs the analyzer's code over a file, no Kafka or Redis: one enriched post per line, or a rejection line
 * `{"rejected": true, "line": n, "reason": ..., "detail": ...}`. Summary on stderr. Exit 2 on bad usage or a
 * missing input file.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePost } from '@tingfeng/contracts';
import { createAnalyzer } from '@tingfeng/text';
import { createJsonlWriter, InputNotFoundError, readJsonlLines } from './lib/jsonl.js';

function fail(message: string): never {
  process.stderr.write(`analyze: ${message}\n`);
  process.exit(2);
}

let values: { input?: string; out?: string };
try {
  ({ values } = parseArgs({ options: { input: { type: 'string' }, out: { type: 'string' } }, strict: true }));
} catch (err) {
  fail(`${(err as Error).message}\nusage: pnpm analyze --input <posts.jsonl or -> --out <enriched.jsonl or ->`);
}
if (!values.input) fail('--input <posts.jsonl or -> is required');
const input = values.input;
const out = values.out ?? '-';
// Checked before the analyzer loads (~1 s) and before the output file is created.
if (input !== '-' && !existsSync(input)) fail(`input file not found: ${input}`);

const analyzer = createAnalyzer();
const writer = createJsonlWriter(out);
const startedMs = performance.now();
let read = 0;
let enriched = 0;
const rejectedByReason = new Map<string, number>();

try {
  for await (const { line, lineNo } of readJsonlLines(input)) {
    read++;
    const result = parsePost(line, { receivedAtMs: Date.now() });
    if (!result.ok) {
      rejectedByReason.set(result.reason, (rejectedByReason.get(result.reason) ?? 0) + 1);
      await writer.write({ rejected: true, line: lineNo, reason: result.reason, detail: result.detail });
      continue;
    }
    await writer.write(analyzer.analyze(result.post, Date.now()));
    enriched++;
  }
} catch (err) {
  if (err instanceof InputNotFoundError) fail(err.message);
  throw err;
} finally {
  analyzer.close();
}
await writer.close();

const elapsedS = (performance.now() - startedMs) / 1000;
const rejected = [...rejectedByReason.values()].reduce((a, b) => a + b, 0);
const reasons = [...rejectedByReason.entries()].map(([reason, n]) => `${reason}=${n}`).join(' ');
process.stderr.write(
  `analyze: read ${read}, enriched ${enriched}, rejected ${rejected}${reasons ? ` (${reasons})` : ''}, ` +
    `${elapsedS.toFixed(2)} s, ${Math.round(read / Math.max(elapsedS, 1e-9))} posts/s\n`,
);
