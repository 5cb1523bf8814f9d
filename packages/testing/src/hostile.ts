import { makePosts, seededRandom } from './posts.js';

/**
 * One generated message for a fuzz run: its bytes (null: a tombstone), the class it was made as, and what a consumer
 * of `posts` must do with it: enrich it (`valid`, with the post's id) or dead-letter it (with `reason` when the class
 * fixes one; random bytes may fail in more than one way).
 */
export interface HostileMessage {
  kind: string;
  value: Buffer | null;
  expect: { valid: true; id: string } | { valid: false; reason?: string };
}

export interface HostileOptions {
  /** Valid posts mixed in; each is expected enriched exactly once. */
  valid: number;
  /** Hostile messages of the cheap classes (random bytes, truncations, wrong types, …); the costly ones are fixed counts. */
  hostile: number;
  /** Ids of the valid posts start with this. */
  prefix: string;
  seed?: number;
}

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A post's JSON with one more raw field spliced in before the closing brace. */
const withField = (post: object, name: string, rawJson: string): string => `${JSON.stringify(post).slice(0, -1)},${JSON.stringify(name)}:${rawJson}}`;

/**
 * Deterministic hostile traffic for `posts`, shuffled: random bytes, truncated JSON, deep nesting, huge arrays, wrong
 * types, lone surrogates (escaped: valid; raw: invalid UTF-8), NUL (escaped: valid; raw: not JSON), 20,000-character
 * texts, 6,000 mentions, oversize values, tombstones, future and unparseable times, interleaved with valid posts.
 */
export function hostileMessages(options: HostileOptions): HostileMessage[] {
  const rand = seededRandom(options.seed ?? 12);
  const int = (n: number) => Math.floor(rand() * n);
  const out: HostileMessage[] = [];
  const valid = makePosts(options.valid, options.prefix, options.seed ?? 12);
  let n = 0;
  const nextValid = () => {
    const post = valid[n++];
    if (!post) throw new Error('more valid-looking classes than valid posts: raise `valid`');
    return post;
  };
  const accepted = <P extends { id: string }>(kind: string, post: P, raw?: string) =>
    out.push({ kind, value: Buffer.from(raw ?? JSON.stringify(post)), expect: { valid: true, id: post.id } });
  const refused = (kind: string, value: Buffer | string | null, reason?: string) =>
    out.push({ kind, value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value), expect: reason ? { valid: false, reason } : { valid: false } });

  // Valid, but heavy or odd: each must still come out enriched once.
  for (let i = 0; i < 20; i++) {
    const p = nextValid();
    accepted('valid: 20,000-character text', { ...p, text: '昆明滇池海埂大坝红嘴鸥'.repeat(2000).slice(0, 20_000) });
  }
  for (let i = 0; i < 10; i++) {
    const p = nextValid();
    accepted('valid: 6,000 mentions', { ...p, text: Array.from({ length: 6000 }, (_, j) => `@${j % 10}`).join(' ').slice(0, 20_000) });
  }
  for (let i = 0; i < 20; i++) {
    const p = nextValid();
    accepted('valid: lone surrogates, escaped', p, JSON.stringify(p).replace('"text":"', '"text":"\\ud800昆明\\udfff'));
  }
  for (let i = 0; i < 20; i++) {
    const p = nextValid();
    accepted('valid: NUL and control characters, escaped', { ...p, text: `昆明\u0000\u0001\u001f\u2028${p.text}` });
  }
  for (let i = 0; i < 10; i++) {
    const p = nextValid();
    accepted('valid: extra field nested 60 deep', p, withField(p, 'x', nested(60)));
  }
  for (let i = 0; i < 5; i++) {
    const p = nextValid();
    accepted('valid: extra array of 100,000 numbers', p, withField(p, 'x', `[${Array.from({ length: 100_000 }, () => int(10)).join(',')}]`));
  }
  for (let i = 0; i < 10; i++) {
    const p = nextValid();
    accepted('valid: unknown fields of every type', { ...p, a: null, b: [true, 1.5e300, -0], c: { d: '' }, e: '\u{1F600}' });
  }
  const plainValid = valid.length - n;

  // Refused with a known reason; their posts are not among the valid ones.
  let spares = 0;
  const spare = () => makePosts(1, `${options.prefix}-refused-${spares++}`)[0]!;
  for (let i = 0; i < 10; i++) refused('deep nesting (200,000)', withField(spare(), 'x', nested(200_000)), 'too_deep');
  for (let i = 0; i < 10; i++) refused('deep nesting (65 to 5,000)', withField({ id: `d${i}` }, 'x', nested(65 + int(5000))), 'too_deep');
  for (let i = 0; i < 3; i++) refused('huge array (over 1 MiB)', withField(spare(), 'x', `[${'0,'.repeat(600_000)}0]`), 'too_large');
  for (let i = 0; i < 3; i++) refused('over 1 MiB of text', withField(spare(), 'x', JSON.stringify('死'.repeat(400_000))), 'too_large');
  for (let i = 0; i < 10; i++) refused('text over 20,000 characters', JSON.stringify({ ...spare(), text: '长'.repeat(20_001 + int(5000)) }), 'text_too_long');
  for (let i = 0; i < 10; i++) refused('lone surrogate, raw bytes', Buffer.concat([Buffer.from(JSON.stringify(spare()).slice(0, 30)), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 'invalid_utf8');
  for (let i = 0; i < 10; i++) refused('NUL byte, raw, inside a string', JSON.stringify(spare()).replace('"text":"', '"text":"\u0000'), 'not_json');
  for (let i = 0; i < 5; i++) refused('tombstone (null value)', null, 'not_json');
  for (let i = 0; i < 5; i++) refused('empty value', '', 'not_json');

  const wrongTypes: [string, (p: Record<string, unknown>) => unknown, string][] = [
    ['id a number', (p) => ({ ...p, id: 42 }), 'invalid_field'],
    ['text an array', (p) => ({ ...p, text: ['昆明'] }), 'invalid_field'],
    ['author a string', (p) => ({ ...p, author: 'u1' }), 'invalid_field'],
    ['author missing', (p) => ({ ...p, author: undefined }), 'missing_field'],
    ['createdAt an object', (p) => ({ ...p, createdAt: { at: 1 } }), 'invalid_field'],
    ['createdAt unparseable', (p) => ({ ...p, createdAt: '昨天下午' }), 'created_at_unparseable'],
    ['createdAt in 2999', (p) => ({ ...p, createdAt: '2999-01-01T00:00:00Z' }), 'created_at_future'],
    ['followers a string', (p) => ({ ...p, author: { id: 'u', followers: 'many' } }), 'invalid_field'],
    ['a JSON array', (p) => [p], 'not_object'],
    ['a JSON string', () => '昆明', 'not_object'],
    // eslint-disable-next-line no-loss-of-precision -- overflows to Infinity on purpose
    ['a JSON number', () => 1e400, 'not_object'],
    ['JSON null', () => null, 'not_object'],
  ];

  // The cheap classes, in rotation, up to `hostile` messages.
  const cheap: (() => void)[] = [
    () => refused('random bytes', Buffer.from(Array.from({ length: int(2000) + 1 }, () => int(256)))),
    () => refused('random printable ASCII', Buffer.from(Array.from({ length: int(300) + 1 }, () => 32 + int(95)))),
    () => {
      const full = JSON.stringify(makePosts(1, `t${int(1e9)}`)[0]);
      refused('truncated JSON', full.slice(0, 1 + int(full.length - 1)), 'not_json');
    },
    () => {
      const [kind, make, reason] = wrongTypes[int(wrongTypes.length)]!;
      refused(`wrong type: ${kind}`, JSON.stringify(make(makePosts(1, `w${int(1e9)}`)[0] as unknown as Record<string, unknown>)) ?? 'undefined', reason);
    },
  ];
  const costly = out.length;
  for (let i = 0; out.length - costly < options.hostile; i++) cheap[i % cheap.length]!();
  for (let i = 0; i < plainValid; i++) accepted('valid', nextValid());

  for (let i = out.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
