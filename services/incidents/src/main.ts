import { runMain } from '@tingfeng/lifecycle';
import { createIncidentsApp } from './app.js';
import { loadIncidentsConfig, type IncidentsConfig } from './config.js';

let config: IncidentsConfig | undefined;
try {
  config = loadIncidentsConfig();
} catch {
  // runMain loads it again inside build and reports the error in one line (exit 78).
}
await runMain(() => createIncidentsApp(config ?? loadIncidentsConfig()), { name: 'incidents', shutdownGraceTimeMs: config?.SHUTDOWN_GRACE_MS });
