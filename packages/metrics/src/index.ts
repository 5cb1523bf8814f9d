import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { bearerToken, matchToken } from '@tingfeng/config';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };
export { scrapeSum } from './scrape.js';

/** A fresh registry with the process's default metrics, every series prefixed `tingfeng_` by the caller's names. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'tingfeng_process_' });
  return registry;
}

/** Consumer lag per partition, as a consumer sees it after each batch: the same series name in every service. */
export function consumerLagGauge(registry: Registry): Gauge<'topic' | 'partition'> {
  return new Gauge({
    name: 'tingfeng_consumer_lag_messages',
    help: 'Messages behind the partition end after the last batch',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
}

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Readiness: connected and assigned. */
  isReady: () => boolean;
  /**
   * Liveness beyond answering at all: false once a part has failed for good (a consumer that crashed and will not
   * restart), so the orchestrator restarts a process that would otherwise sit idle while looking healthy.
   */
  isLive?: () => boolean;
  /** Extra GET routes answering JSON. */
  routes?: Record<string, () => unknown>;
  /**
   * GET routes that show operational detail (failed deliveries and why: which hosts answered, which did not), served
   * only with `Authorization: Bearer <opsToken>` or, with no token set, only to callers on the loopback interface
   * (the machine itself, `kubectl port-forward`). Anyone else gets 401 or 403.
   */
  guardedRoutes?: Record<string, () => unknown>;
  opsToken?: string | undefined;
  /**
   * Every request the ops routes above do not answer (any method but GET, any other path), for a process whose own
   * HTTP work shares the port (the webhook receiver's webhooks). Without one, those get 405 or 404.
   */
  fallback?: RequestListener;
}

/** May this request see a guarded route? */
function mayInspect(req: IncomingMessage, opsToken: string | undefined): 'ok' | 'unauthorized' | 'forbidden' {
  if (opsToken !== undefined) {
    const given = bearerToken(req.headers.authorization);
    return given !== undefined && matchToken([opsToken], given) === 0 ? 'ok' : 'unauthorized';
  }
  const peer = req.socket.remoteAddress ?? '';
  return /^(127\.|::1$|::ffff:127\.)/.test(peer) ? 'ok' : 'forbidden';
}

/** Paths the ops server itself answers to GET. */
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The operations endpoint of every service that has no HTTP framework of its own: `GET /healthz` (liveness),
 * `GET /readyz` (readiness), `GET /metrics` (Prometheus text), and what `routes`, `guardedRoutes` and `fallback` add.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const ours = req.method === 'GET' && (OPS_PATHS.has(path) || options.routes?.[path] !== undefined || options.guardedRoutes?.[path] !== undefined);
    if (!ours && options.fallback) {
      options.fallback(req, res);
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      const live = options.isLive?.() ?? true;
      res.writeHead(live ? 200 : 503, { 'content-type': 'application/json' }).end(live ? '{"status":"ok"}' : '{"status":"failed"}');
    } else if (path === '/readyz') {
      const ready = options.isReady();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready }));
    } else if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500).end(err.message));
    } else if (options.guardedRoutes?.[path]) {
      const verdict = mayInspect(req, options.opsToken);
      if (verdict === 'ok') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.guardedRoutes[path]()));
      else if (verdict === 'unauthorized') res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' }).end('{"error":"a valid bearer token is required"}');
      else res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"only from the loopback interface, or with the ops token"}');
    } else if (options.routes?.[path]) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.routes[path]()));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    close: () => (closed ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}
