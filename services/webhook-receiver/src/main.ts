import { ConfigError } from '@tingfeng/config';
import { loadReceiverConfig } from './config.js';
import { startWebhookReceiver } from './receiver.js';

// A demo tool, not a service: it prints readable lines rather than logs, and needs no lifecycle registry.
let config;
try {
  config = loadReceiverConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  throw err;
}
const receiver = await startWebhookReceiver({
  port: config.WEBHOOK_RECEIVER_PORT,
  host: config.WEBHOOK_RECEIVER_HOST,
  ...(config.WEBHOOK_SECRET !== undefined ? { secret: config.WEBHOOK_SECRET } : {}),
  failFirst: config.WEBHOOK_FAIL_FIRST,
});
process.stdout.write(
  `[webhook-receiver] listening on ${receiver.url} (${config.WEBHOOK_SECRET ? 'signatures checked' : 'no WEBHOOK_SECRET: signatures not checked'}` +
    `${config.WEBHOOK_FAIL_FIRST > 0 ? `, failing the first ${config.WEBHOOK_FAIL_FIRST} requests` : ''})\n`,
);
const stop = () => {
  void receiver.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
