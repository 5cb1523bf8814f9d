import { runMain } from '@tingfeng/lifecycle';
import { createIngestApp } from './app.js';
import { loadIngestConfig } from './config.js';

await runMain({ name: 'ingest', loadConfig: () => loadIngestConfig(), build: createIngestApp });
