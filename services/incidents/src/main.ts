import { runMain } from '@tingfeng/lifecycle';
import { createIncidentsApp } from './app.js';
import { loadIncidentsConfig } from './config.js';

await runMain({ name: 'incidents', loadConfig: () => loadIncidentsConfig(), build: createIncidentsApp });
