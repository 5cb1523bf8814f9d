import { runMain } from '@tingfeng/lifecycle';
import { createAnalyzerApp } from './app.js';
import { loadAnalyzerConfig, type AnalyzerConfig } from './config.js';

// Read once up front so SHUTDOWN_GRACE_MS reaches runMain's deadline; a bad setting is reported by runMain (exit 78).
let config: AnalyzerConfig | undefined;
try {
  config = loadAnalyzerConfig();
} catch {
  // runMain loads it again inside build and reports the error in one line.
}
await runMain(() => createAnalyzerApp(config ?? loadAnalyzerConfig()), { name: 'analyzer', shutdownGraceTimeMs: config?.SHUTDOWN_GRACE_MS });
