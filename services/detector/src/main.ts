import { runMain } from '@tingfeng/lifecycle';
import { createDetectorApp } from './app.js';
import { loadDetectorServiceConfig, type DetectorServiceConfig } from './config.js';

// Read once up front so SHUTDOWN_GRACE_MS reaches runMain's deadline; a bad setting is reported by runMain (exit 78).
let config: DetectorServiceConfig | undefined;
try {
  config = loadDetectorServiceConfig();
} catch {
  // runMain loads it again inside build and reports the error in one line.
}
await runMain(() => createDetectorApp(config ?? loadDetectorServiceConfig()), { name: 'detector', shutdownGraceTimeMs: config?.SHUTDOWN_GRACE_MS });
