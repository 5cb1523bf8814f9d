import { z } from 'zod';
import type { ApiToken } from '../../config.js';
import { isDay } from '../../domain/days.js';
import type { DailyReports } from '../../reports/daily-reports.js';
import type { PdfPrinter } from '../../reports/pdf-printer.js';
import { renderReportHtml, REPORT_CSP } from '../../reports/render-html.js';
import { ReportRecordSchema } from '../../reports/report-store.js';
import { errorAnswer, guarded, type Api } from '../api.js';
import type { StreamTickets } from '../stream-tickets.js';

export interface ReportRoutesOptions {
  tokens: readonly ApiToken[];
  reports: DailyReports;
  printer: PdfPrinter;
  /** The single-use tickets of `POST /api/stream/ticket`: a frame or a new tab cannot send the bearer token. */
  tickets: StreamTickets;
}

const Day = z.string().refine(isDay, 'must be a day, YYYY-MM-DD');

const DailyQuerySchema = z.object({
  date: Day.describe('the day, YYYY-MM-DD, in TIME_ZONE'),
  scheme: z.string().trim().min(1).max(100).optional().describe('one monitoring scheme; every post without it'),
  format: z.enum(['html', 'pdf']).default('html'),
  ticket: z.string().max(100).optional().describe('a single-use ticket from POST /api/stream/ticket, for a frame or a new tab (which cannot send the Authorization header)'),
});

const BuildBodySchema = z.object({
  date: Day.optional().describe('default: yesterday in TIME_ZONE'),
  scheme: z.string().trim().max(100).optional().describe('one scheme (announced to its channels if it names any); default: every scheme with report.daily'),
});

const ListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(60) });

const ReportListSchema = z.object({
  reports: z.array(ReportRecordSchema),
  schedule: z
    .object({ pattern: z.string().nullable(), tz: z.string().nullable(), next: z.string().nullable().describe('next run, ISO-8601') })
    .nullable()
    .describe('the repeatable job as BullMQ holds it'),
});

const TAGS = ['reports'];
const unavailable = errorAnswer('The archive (PostgreSQL) is not available, or the query took too long: try again');

/** 舆情日报: the report of a day as HTML or PDF, the reports built so far, a build on demand. */
export function registerReportRoutes(app: Api, { tokens, reports, printer, tickets }: ReportRoutesOptions): void {
  const byTicket = async (req: { query: unknown }) => {
    const ticket = (req.query as Record<string, unknown> | undefined)?.['ticket'];
    return typeof ticket === 'string' ? tickets.redeem(ticket) : undefined;
  };
  app.get(
    '/api/reports/daily',
    {
      ...guarded(
        tokens,
        'read',
        {
          summary: 'The day’s 舆情日报 (in TIME_ZONE): volume and negative share against the 7 days before, the incidents opened, top stories, cascades and accounts; HTML, or PDF printed by Chromium (501 where no browser is installed)',
          tags: TAGS,
          querystring: DailyQuerySchema,
          response: {
            200: { description: 'The report', content: { 'text/html': { schema: z.string() }, 'application/pdf': { schema: z.string().describe('binary') } } },
            501: errorAnswer('format=pdf on a host without Chromium (CHROMIUM_PATH): `{ error: "pdf_unavailable" }`; the HTML prints to PDF from any browser'),
            503: unavailable,
          },
        },
        { alternative: byTicket },
      ),
      // Its own stylesheet inline (allowed by hash), nothing else; the dashboard may frame it.
      helmet: { contentSecurityPolicy: { useDefaults: false, directives: REPORT_CSP }, frameguard: { action: 'sameorigin' } },
    },
    async (req, reply) => {
      const { date, scheme, format } = req.query;
      if (format === 'pdf' && !printer.available) {
        return reply.code(501).send({ error: 'pdf_unavailable', message: 'no Chromium on this host (CHROMIUM_PATH): open the HTML report and print it from the browser' });
      }
      const html = renderReportHtml(await reports.build(date, scheme));
      const name = `tingfeng-daily-${date}${scheme ? `-${encodeURIComponent(scheme)}` : ''}`;
      if (format === 'pdf') {
        const pdf = await printer.print(html);
        return reply.type('application/pdf').header('content-disposition', `inline; filename="${name}.pdf"`).send(pdf as unknown as string);
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
    },
  );

  app.get(
    '/api/reports',
    guarded(tokens, 'read', {
      summary: 'The daily reports the scheduled job built, newest first, with where each was announced, and the schedule',
      tags: TAGS,
      querystring: ListQuerySchema,
      response: { 200: ReportListSchema },
    }),
    async (req) => {
      const [list, schedule] = await Promise.all([reports.records.list(req.query.limit), reports.schedule()]);
      return {
        reports: list,
        schedule: schedule ? { pattern: schedule.pattern, tz: schedule.tz, next: schedule.next !== null ? new Date(schedule.next).toISOString() : null } : null,
      };
    },
  );

  app.post(
    '/api/reports/daily',
    guarded(tokens, 'operate', {
      summary: 'Build a day’s report now and announce it to its scheme’s channels, as the morning job does (a channel that already took it is skipped)',
      tags: TAGS,
      body: BuildBodySchema,
      response: { 202: z.object({ jobId: z.string() }) },
    }),
    async (req, reply) => {
      const jobId = await reports.enqueue({ ...(req.body.date ? { day: req.body.date } : {}), ...(req.body.scheme !== undefined ? { scheme: req.body.scheme } : {}) });
      return reply.code(202).send({ jobId });
    },
  );
}
