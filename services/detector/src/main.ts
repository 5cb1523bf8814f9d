import { runMain } from '@tingfeng/lifecycle';
import { createDetectorApp } from './app.js';
import { loadDetectorServiceConfig } from './config.js';

await runMain(() => createDetectorApp(loadDetectorServiceConfig()), { name: 'detector' });
