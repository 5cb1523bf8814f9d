/**
 * pnpm backtest --input <posts.jsonl or -> --out <alerts.jsonl or -> [--config <detector.json>]
 *                [--campaigns <campaigns.jsonl>] [--threads <n>] [--progress-every <n>]
 *
 * Runs the live detectors' code over a file in event time, in one process, with neither Kafka nor Redis: one alert
 * per output line, a summary on stderr. Deterministic: the same input gives the same output byte for byte, whatever
 * `--threads`. The detection itself is `Backtest` of @tingfeng/detect (the event clock, the engine and the response
 * campaign tracker, in the order the live global leader runs them); this file reads, analyses and writes.
 *
 * - Each line is a raw post (validated with parsePost, then analysed with @tingfeng/text) or an enriched post (a line
 *   that already carries `tokens`: validated, not re-analysed).
 * - "Too far in the future" cannot use the wall clock and stay deterministic, so a post is judged by the posts around
 *   it (`EventClock`, the rule each partition of the live merge follows too): a post more than `clockMaxJumpMs`
 *   (10 min) ahead of the largest event time accepted so far is a jump, held until the next `clockConfirmPosts` (8)
 *   posts vote on it; refused, it is `created_at_future` and moves nothing. Quiet weeks between posts are read whole.
 * - `--campaigns`: response campaigns, one JSON object per line as the incidents service registers them
 *   (`CampaignRecord`: incidentId, incidentKey, terms, rootIds, accounts, startedAt), tracked from the first post:
 *   a narrative still accelerating after the response gives the same `response` alert (key `campaign:<incidentId>`)
 *   as the live detector.
 * - `--threads n` (default 1) parses, validates and analyses batches of lines on n worker threads (0: all on the main
 *   thread) while the main thread runs the detectors; batches are consumed in input order. When the next batch is
 *   not back yet, the main thread analyses a later one itself instead of waiting (`batchesOnMain` in the summary).
 *
 * The work is in lib/backtest/run.ts. This file only makes sure it runs with V8's young generation at 64 MiB a
 * semi-space and the garbage collector on the JavaScript threads only (`--max-semi-space-size=64 --single-threaded-gc`,
 * flags V8 takes only at start: `pnpm backtest` passes them, and the script started without them starts itself again
 * with them, which costs a Node.js start, ~0.4 s; lib/backtest/flags.ts has the list). A backtest
 * allocates millions of short-lived posts a second on two threads that keep both cores busy: with the defaults,
 * scavenges come every few MiB and the collector's helper threads wait for a core. On the dev file it is about 2 s
 * of 13 (the detect README has the figures).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { BACKTEST_NODE_FLAGS as GC_FLAGS } from './lib/backtest/flags.js';

if (GC_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  await import('./lib/backtest/run.js');
} else {
  const child = spawn(process.execPath, [...GC_FLAGS, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: 'inherit' });
  // A signal sent to this process alone (a supervisor's SIGTERM, `timeout`) reaches the backtest too.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`backtest: could not start node: ${err.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
}
