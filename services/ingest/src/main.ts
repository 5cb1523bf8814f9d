import { runMain } from '@tingfeng/lifecycle';
import { createIngestApp } from './app.js';
import { loadIngestConfig } from './config.js';

await runMain(() => createIngestApp(loadIngestConfig()), { name: 'ingest' });
