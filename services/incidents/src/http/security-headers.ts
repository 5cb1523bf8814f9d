import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The Content-Security-Policy of every answer, the dashboard's included. The dashboard is ES modules and one stylesheet
 * from `/dashboard/`, builds its DOM with `createElement` (no inline script, no inline style attribute: `h()` sets
 * `style` through the CSSOM, which CSP allows), draws its charts as inline SVG and downloads CSV and PDF through
 * `blob:` URLs. So nothing inline is allowed and nothing leaves the origin: an injected `<script>` does not run, and
 * injected CSS cannot fetch from another host (img-src, font-src and connect-src are the origin's).
 */
export const CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'frame-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

/**
 * Registers @fastify/helmet on `app` (every route, API and dashboard alike): the CSP above, `frame-ancestors 'none'`
 * and `X-Frame-Options: DENY` (no page of ours inside another site's frame), `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer` (a click through to a post does not tell the platform which incident it came from),
 * Cross-Origin-Opener/Resource-Policy `same-origin`. HSTS is left to whoever terminates TLS: the service itself speaks
 * plain HTTP and must not pin `includeSubDomains` onto the organisation's other hosts. A route may narrow or widen
 * its own headers with the `helmet` route option.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { ...CSP_DIRECTIVES } },
    hsts: false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });
}
