export { CHANNEL_TYPES } from './types.js';
export type { ChannelTarget, ChannelType, NotificationItem, OutgoingMessage, ReportNotice, FormatOptions, HttpRequest } from './types.js';
export { signWebhookBody, verifyWebhookSignature, dingtalkSign, feishuSign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signing.js';
export type { WebhookVerdict } from './signing.js';
export {
  buildContent,
  renderMarkdown,
  escapeMarkup,
  renderText,
  evidenceOf,
  incidentLink,
  changeLabel,
  formatTime,
  oneLine,
  truncateUtf8,
  SEVERITY_LABELS,
  TYPE_LABELS,
  STATUS_LABELS,
} from './content.js';
export type { MessageContent, Evidence } from './content.js';
export { buildWebhookRequest, webhookPayload } from './channels/webhook.js';
export type { WebhookPayload, WebhookItemPayload } from './channels/webhook.js';
export { buildWecomRequest } from './channels/wecom.js';
export { buildDingtalkRequest } from './channels/dingtalk.js';
export { buildFeishuRequest } from './channels/feishu.js';
export { buildRequest } from './requests.js';
export type { BuildRequestOptions } from './requests.js';
export { sendRequest, DEFAULT_MAX_RESPONSE_BYTES } from './sender.js';
export { VENDOR_HOSTS, EMPTY_ALLOW_LIST, parseAllowList, checkUrl, checkAddress } from './destination.js';
export type { AllowList } from './destination.js';
export { NOTIFY_SETTINGS } from './settings.js';
export type { SendOptions, SendResult } from './sender.js';
export { DeliveryError } from './errors/delivery-error.js';
