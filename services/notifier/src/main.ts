import { runMain } from '@tingfeng/lifecycle';
import { createNotifierApp } from './app.js';
import { loadNotifierConfig } from './config.js';

await runMain(() => createNotifierApp(loadNotifierConfig()), { name: 'notifier' });
