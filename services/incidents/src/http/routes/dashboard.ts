import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Api } from '../api.js';

const PUBLIC_DIR = new URL('../../../public/', import.meta.url);

/** The dashboard's files: plain ES modules and CSS, no build step. Only these names are served. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'schemes.js': 'text/javascript; charset=utf-8',
  'search.js': 'text/javascript; charset=utf-8',
  'reports.js': 'text/javascript; charset=utf-8',
  'evidence.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const FileParamsSchema = z.object({ file: z.string() });

/** The dashboard's pages are not API: they stay out of the OpenAPI document. */
export function registerDashboardRoutes(app: Api): void {
  const send = async (name: string) => readFile(new URL(name, PUBLIC_DIR));
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type(FILES['index.html']!).header('cache-control', 'no-cache').send(await send('index.html')));
  app.get('/dashboard/:file', { schema: { hide: true, params: FileParamsSchema } }, async (req, reply) => {
    const { file } = req.params;
    const type = FILES[file];
    if (!type || file === 'index.html') return reply.code(404).send({ error: 'not_found' });
    return reply.type(type).header('cache-control', 'no-cache').send(await send(file));
  });
}
