import { z } from 'zod';

export const ALERT_TYPES = ['cascade', 'story', 'coordination', 'spam', 'response', 'scheme'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export const WindowSchema = z.object({ start: z.string(), end: z.string() });

/** What the detectors emit: one per line of a backtest's output, one per job on the `alerts` queue. */
export const AlertSchema = z.looseObject({
  id: z.string().min(1),
  key: z.string().min(1),
  type: z.string().min(1),
  at: z.string(),
  severity: z.enum(SEVERITIES),
  title: z.string(),
  terms: z.array(z.string()),
  postIds: z.array(z.string()).max(50),
  rootId: z.string().optional(),
  accounts: z.array(z.string()).optional(),
  observed: z.number().optional(),
  expected: z.number().optional(),
  score: z.number().optional(),
  window: WindowSchema.optional(),
  negativeShare: z.number().optional(),
  coordinatedShare: z.number().optional(),
  schemes: z.array(z.string()).optional(),
  /** The incident this alert belongs to when it is part of a wider conversation (a story bursting from a cascade's words, a response to it); defaults to `key`. */
  incidentKey: z.string().optional(),
  explain: z.string().optional(),
});

export type Alert = z.infer<typeof AlertSchema>;
export type AlertType = (typeof ALERT_TYPES)[number];
