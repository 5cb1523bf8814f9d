import { z } from 'zod';
import { INCIDENT_STATUSES, SEVERITIES } from '@tingfeng/contracts';

const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(item));

const time = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time')
  .transform((s) => Date.parse(s));

/** `GET /api/incidents` query. Lists are comma-separated; since/until bound `openedAt` (wall time). */
export const ListQuerySchema = z.object({
  status: csv(z.enum(INCIDENT_STATUSES)).optional(),
  type: csv(z.string().min(1)).optional(),
  severity: csv(z.enum(SEVERITIES)).optional(),
  scheme: z.string().min(1).optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const IdParamsSchema = z.object({ id: z.string().min(1).max(200) });

export const ResolveBodySchema = z.object({ reason: z.string().max(2000).optional() }).default({});
export const NoteBodySchema = z.object({ text: z.string().trim().min(1, 'text must not be empty').max(5000) });
export const AssignBodySchema = z.object({ assignee: z.string().trim().min(1, 'assignee must not be empty').max(200) });
export const ResponseBodySchema = z.object({
  accounts: z.array(z.string().trim().min(1)).min(1, 'name at least one account').max(200),
  startedAt: z.iso.datetime({ offset: true }).optional(),
});

/** A readable one-line message for a 400. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}
