// Run by index.test.ts: logs objects that carry secrets in the places services put them.
import { createLogger, flushLogs } from './index.js';

const logger = createLogger('fixture');
logger.info({ token: 'tok-top-level-0123456789', channel: { name: 'ops', webhookUrl: 'https://hooks.example/abc', signingSecret: 's3cret-signing' } }, 'channel');
logger.info({ req: { headers: { authorization: 'Bearer tok-header-0123456789' } } }, 'request');
logger.info({ config: { API_TOKENS: 'tok-config-0123456789', PORT: 8080 } }, 'config');
logger.error({ err: Object.assign(new Error('OOM'), { command: { name: 'set', args: ['checkpoint', 'x'.repeat(64)] } }) }, 'redis refused');
flushLogs();
