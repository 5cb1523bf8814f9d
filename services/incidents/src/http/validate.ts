import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { describeZodError } from './schemas.js';

/** Parses `value` or answers 400 with what is wrong; returns undefined when it answered. */
export async function parseOr400<S extends z.ZodType>(schema: S, value: unknown, reply: FastifyReply): Promise<z.infer<S> | undefined> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  await reply.code(400).send({ error: 'invalid_request', message: describeZodError(result.error) });
  return undefined;
}
