import pg from 'pg';
import { parseEventTime } from '@tingfeng/contracts';
import { ArchiveInputError } from './errors.js';
import type { PostFilter, TimeBound } from './types.js';

/** Where SQL values go: bind parameters (`$1`), or literals for COPY, which takes no parameters. */
export interface Binder {
  bind(value: string | number | readonly string[], cast: string): string;
}

/** Collects values for `$n` parameters. */
export class ParamBinder implements Binder {
  readonly values: unknown[] = [];

  bind(value: string | number | readonly string[], cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/** Writes values as escaped literals (pg's `escapeLiteral`), for statements that cannot take parameters. */
export class LiteralBinder implements Binder {
  bind(value: string | number | readonly string[], cast: string): string {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error('a non-finite number cannot be a literal');
      return `${value}::${cast}`;
    }
    if (typeof value === 'string') return `${pg.escapeLiteral(value)}::${cast}`;
    const element = cast.replace(/\[\]$/, '');
    return value.length === 0 ? `'{}'::${cast}` : `ARRAY[${value.map((v) => pg.escapeLiteral(v)).join(',')}]::${element}[]`;
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A time bound to epoch ms; throws {@link ArchiveInputError} naming `field`. */
export function timeBoundMs(value: TimeBound, field: string): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (DATE_ONLY.test(value)) ms = Date.parse(`${value}T00:00:00Z`);
  else ms = parseEventTime(value);
  if (!Number.isFinite(ms)) throw new ArchiveInputError(field, `${JSON.stringify(String(value)).slice(0, 60)} is not a time (ISO-8601 with an offset, YYYY-MM-DD, or epoch ms)`);
  return ms;
}

const asList = (value: string | readonly string[]): string[] => (typeof value === 'string' ? [value] : [...value]);

/**
 * The WHERE conditions of a filter, ANDed, over table alias-free columns of `posts`. `tsquery` is the compiled `q`
 * (see `compileSearchQuery`), already checked by the caller.
 */
export function filterConditions(filter: PostFilter, tsquery: string | undefined, b: Binder): string[] {
  const where: string[] = [];
  if (filter.includeSpam !== true) where.push('NOT spam');
  if (tsquery !== undefined) where.push(`tokens @@ ${b.bind(tsquery, 'tsquery')}`);
  const fromMs = filter.from !== undefined ? timeBoundMs(filter.from, 'from') : undefined;
  const toMs = filter.to !== undefined ? timeBoundMs(filter.to, 'to') : undefined;
  if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) throw new ArchiveInputError('to', 'is before from');
  if (fromMs !== undefined) where.push(`created_at >= ${b.bind(new Date(fromMs).toISOString(), 'timestamptz')}`);
  if (toMs !== undefined) where.push(`created_at < ${b.bind(new Date(toMs).toISOString(), 'timestamptz')}`);
  if (filter.scheme !== undefined) where.push(`schemes && ${b.bind(asList(filter.scheme), 'text[]')}`);
  if (filter.platform !== undefined) where.push(`platform = ANY(${b.bind(asList(filter.platform), 'text[]')})`);
  if (filter.author !== undefined) where.push(`author_id = ANY(${b.bind(asList(filter.author), 'text[]')})`);
  if (filter.sentiment !== undefined) {
    const op = { negative: '<', neutral: '=', positive: '>' }[filter.sentiment];
    if (op === undefined) throw new ArchiveInputError('sentiment', `${JSON.stringify(filter.sentiment)} is not negative, neutral or positive`);
    where.push(`sentiment ${op} 0`);
  }
  if (filter.rootId !== undefined) {
    const root = b.bind(filter.rootId, 'text');
    where.push(`(root_id = ${root} OR id = ${root})`);
  }
  if (filter.ids !== undefined) where.push(`id = ANY(${b.bind([...filter.ids], 'text[]')})`);
  return where;
}

export function whereSql(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** The keyset of a page boundary: the last post's event time, id and platform. */
export interface CursorKey {
  createdAt: string;
  id: string;
  platform: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id, key.platform]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'string') && Number.isFinite(Date.parse(value[0] as string))) {
      const [createdAt, id, platform] = value as [string, string, string];
      return { createdAt, id, platform };
    }
  } catch {
    // falls through to the error below
  }
  throw new ArchiveInputError('cursor', 'is not a cursor this archive gave out');
}
