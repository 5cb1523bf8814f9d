/** The kinds of notification channel: the incidents API stores them, the notifier sends through them. */
export const CHANNEL_TYPES = ['webhook', 'wecom', 'dingtalk', 'feishu'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
