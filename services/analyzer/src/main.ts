import { runMain } from '@tingfeng/lifecycle';
import { createAnalyzerApp } from './app.js';
import { loadAnalyzerConfig } from './config.js';

await runMain(() => {
  const config = loadAnalyzerConfig();
  return createAnalyzerApp(config);
}, { name: 'analyzer' });
