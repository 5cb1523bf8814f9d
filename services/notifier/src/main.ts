import { runMain } from '@tingfeng/lifecycle';
import { createNotifierApp } from './app.js';
import { loadNotifierConfig } from './config.js';

await runMain({ name: 'notifier', loadConfig: () => loadNotifierConfig(), build: createNotifierApp });
