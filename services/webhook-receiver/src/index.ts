export { startWebhookReceiver } from './receiver.js';
export type { WebhookReceiver, WebhookReceiverOptions, ReceivedMessage } from './receiver.js';
