import { Worker } from 'node:worker_threads';

/**
 * Starts `threads` analysis workers (worker.ts). Kept apart from the pool, with nothing heavier than worker_threads to
 * load, so the backtest starts them before it loads its own modules: a worker takes ~0.6 s to start tsx and ~0.8 s to
 * load its imports, and then jieba (~0.5 s since the load patch; 1.3 s before), the longest wait before the first batch is back.
 */
export function startWorkers(threads: number, onError: (err: Error) => void): Worker[] {
  // Workers do not inherit tsx's loader: each registers it, then loads worker.ts.
  const workerUrl = new URL('./worker.ts', import.meta.url).href;
  const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); })`;
  return Array.from({ length: threads }, () => new Worker(entry, { eval: true }).on('error', onError));
}
