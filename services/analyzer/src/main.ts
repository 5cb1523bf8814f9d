import { runMain } from '@tingfeng/lifecycle';
import { createAnalyzerApp } from './app.js';
import { loadAnalyzerConfig } from './config.js';

await runMain({ name: 'analyzer', loadConfig: () => loadAnalyzerConfig(), build: createAnalyzerApp });
