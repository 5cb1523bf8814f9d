import { runMain } from '@tingfeng/lifecycle';
import { createArchiverApp } from './app.js';
import { loadArchiverConfig } from './config.js';

await runMain({ name: 'archiver', loadConfig: () => loadArchiverConfig(), build: createArchiverApp });
