import { list, parsedSetting } from '@tingfeng/config';
import { parseAllowList } from './destination.js';

/**
 * The settings of every service that sends to channels (the notifier; the incidents service, for the daily reports'
 * announcements): spread them into its schema. Kept beside the parser they use, since @tingfeng/config depends on no
 * other package.
 */
export const NOTIFY_SETTINGS = {
  /**
   * Destinations that are not public but may be reached (comma-separated host names, IP addresses, CIDR ranges):
   * generic webhooks to loopback, private or link-local addresses are refused unless listed here, and a listed host
   * may also stand in for the bots' vendor hosts (a local receiver in tests and demos). Empty: public hosts only.
   */
  NOTIFY_ALLOWED_HOSTS: parsedSetting((value) => parseAllowList(list(value))),
};
