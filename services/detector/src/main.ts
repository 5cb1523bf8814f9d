import { runMain } from '@tingfeng/lifecycle';
import { createDetectorApp } from './app.js';
import { loadDetectorServiceConfig } from './config.js';

await runMain({ name: 'detector', loadConfig: () => loadDetectorServiceConfig(), build: createDetectorApp });
