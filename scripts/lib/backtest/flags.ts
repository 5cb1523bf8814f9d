/**
 * The Node.js flags the backtest runs with (why: scripts/backtest.ts). `pnpm backtest` passes them itself (the
 * `backtest` script of package.json, which holds a copy of this list), so it runs in one process; started without
 * them, scripts/backtest.ts starts itself again with them. Scripts that spawn the backtest pass them too.
 */
export const BACKTEST_NODE_FLAGS = ['--max-semi-space-size=64', '--single-threaded-gc'] as const;
