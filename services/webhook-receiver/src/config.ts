import { z } from 'zod';
import { loadConfig, secretSetting } from '@tingfeng/config';

export const ReceiverConfigSchema = z.object({
  /** Port to listen on; 0 picks a free one. */
  WEBHOOK_RECEIVER_PORT: z.coerce.number().int().min(0).max(65535).default(3900),
  /** Address to listen on. */
  WEBHOOK_RECEIVER_HOST: z.string().default('127.0.0.1'),
  /** Secret the signatures are checked with (generic webhook HMAC, DingTalk/Feishu signing); unset accepts unsigned requests; at least 16 characters. */
  WEBHOOK_SECRET: secretSetting().optional(),
  /** Answer 500 to the first n requests, to show retries. */
  WEBHOOK_FAIL_FIRST: z.coerce.number().int().min(0).default(0),
});

export type ReceiverConfig = z.infer<typeof ReceiverConfigSchema>;

export function loadReceiverConfig(env: NodeJS.ProcessEnv = process.env): ReceiverConfig {
  return loadConfig(ReceiverConfigSchema, env);
}
