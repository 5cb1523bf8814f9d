import { describe, expect, it } from 'vitest';
import { SchemeRuleError } from './scheme-rule-error.js';
import { compileSchemes, type Scheme } from './matcher.js';
import { parseRule, type RuleAst } from './rule-parser.js';

/** The AST as a compact string: terms bare, operators prefix. */
function show(ast: RuleAst): string {
  switch (ast.kind) {
    case 'term':
      return ast.term;
    case 'not':
      return `NOT(${show(ast.operand)})`;
    default:
      return `${ast.kind.toUpperCase()}(${ast.operands.map(show).join(' ')})`;
  }
}

function errorOf(rule: string): SchemeRuleError {
  try {
    parseRule(rule);
  } catch (err) {
    if (err instanceof SchemeRuleError) return err;
    throw err;
  }
  throw new Error(`parsed: ${rule}`);
}

const one = (rule: string, extra: Partial<Scheme> = {}) => compileSchemes([{ name: 's', rule, ...extra }]);

describe('parseRule', () => {
  it('reads the seed example: NOT binds tighter than AND, juxtaposition is AND', () => {
    expect(show(parseRule('昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气'))).toBe('AND(昆明 OR(死去 没落 鬼城) NOT(天气))');
  });
  it('binds AND tighter than OR, NOT tighter than AND', () => {
    expect(show(parseRule('A OR B AND C'))).toBe('OR(A AND(B C))');
    expect(show(parseRule('A AND B OR C'))).toBe('OR(AND(A B) C)');
    expect(show(parseRule('NOT A OR B'))).toBe('OR(NOT(A) B)');
    expect(show(parseRule('A OR B NOT C'))).toBe('OR(A AND(B NOT(C)))');
    expect(show(parseRule('NOT NOT A'))).toBe('NOT(NOT(A))');
    expect(show(parseRule('(A OR B)(C OR D)'))).toBe('AND(OR(A B) OR(C D))');
  });
  it('takes quoted phrases whole, operator words and spaces included, and full-width brackets', () => {
    expect(show(parseRule('"正在 死去" OR “AND 城市”'))).toBe('OR(正在 死去 AND 城市)');
    expect(show(parseRule('昆明（死去 OR 没落）'))).toBe('AND(昆明 OR(死去 没落))');
    expect(show(parseRule('and or not'))).toBe('AND(and or not)');
  });
  it('says what is wrong and where', () => {
    const cases: [string, string, number][] = [
      ['', 'empty rule', 0],
      ['   ', 'empty rule', 0],
      ['昆明 AND', 'AND needs a term after it', 6],
      ['AND 昆明', 'AND needs a term before it', 0],
      ['昆明 OR OR 鬼城', 'OR needs a term after it', 6],
      ['(昆明 OR 鬼城', 'missing ) for this (', 0],
      ['昆明 OR 鬼城)', 'unexpected )', 8],
      ['昆明 ()', 'empty parentheses', 3],
      ['昆明 "死去', 'unterminated quote "', 3],
      ['昆明 ""', 'empty phrase', 3],
      ['昆明 NOT', 'NOT needs a term after it', 6],
    ];
    for (const [rule, reason, position] of cases) {
      const err = errorOf(rule);
      expect({ rule, reason: err.reason, position: err.position }).toEqual({ rule, reason, position });
      expect(err.name).toBe('SchemeRuleError');
      expect(err.message).toContain(`at position ${position}`);
    }
  });
});

describe('compileSchemes', () => {
  it('matches the seed example and its exclusion', () => {
    const m = one('昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气');
    expect(m.match('有人说昆明是一座正在死去的城市')).toEqual(['s']);
    expect(m.match('昆明越来越没落了')).toEqual(['s']);
    expect(m.match('昆明没落了,天气也不好')).toEqual([]);
    expect(m.match('这个城市正在死去')).toEqual([]);
    expect(m.match('昆明的天气真好')).toEqual([]);
  });
  it('applies precedence when matching', () => {
    const m = one('A OR B NOT C');
    expect(m.match('a')).toEqual(['s']);
    expect(m.match('a c')).toEqual(['s']); // A alone satisfies the OR
    expect(m.match('b')).toEqual(['s']);
    expect(m.match('b c')).toEqual([]);
    expect(one('NOT 天气').match('今天去了翠湖')).toEqual(['s']);
    expect(one('NOT 天气').match('天气好')).toEqual([]);
  });
  it('matches phrases as written, not as separate words', () => {
    const m = one('"正在死去" OR "水 军"');
    expect(m.match('一座正在死去的城市')).toEqual(['s']);
    expect(m.match('正在 死去')).toEqual([]);
    expect(m.match('都是水   军')).toEqual(['s']); // whitespace collapsed on both sides
  });
  it('normalises traditional Chinese, full-width forms and ASCII case on both sides', () => {
    const m = one('城市 AND 喜欢 AND iphone');
    expect(m.match('這個城市真的很美，我很喜歡昆明的ＩＰｈｏｎｅ店')).toEqual(['s']);
    expect(one('臺灣 OR 反覆').match('台湾的天气反复无常')).toEqual(['s']);
  });
  it('limits a scheme to its accounts, by id or nickname, @ and case ignored', () => {
    const m = compileSchemes([
      { name: 'official', rule: '', accounts: ['@昆明发布', 'U123'] },
      { name: 'official-rain', rule: '下雨', accounts: ['昆明发布'] },
      { name: 'rain', rule: '下雨' },
    ]);
    expect(m.match('明天下雨', ['u999', '昆明发布'])).toEqual(['official', 'official-rain', 'rain']);
    expect(m.match('明天下雨', 'u123')).toEqual(['official', 'rain']);
    expect(m.match('明天下雨', 'someone')).toEqual(['rain']);
    expect(m.match('明天下雨')).toEqual(['rain']);
    expect(m.match('晴天', '昆明发布')).toEqual(['official']);
  });
  it('skips disabled schemes and reports malformed ones without throwing', () => {
    const m = compileSchemes([
      { name: 'ok', rule: '昆明' },
      { name: 'off', rule: '昆明', enabled: false },
      { name: 'bad', rule: '昆明 AND' },
      { name: 'ok', rule: '滇池' },
      { name: '', rule: '昆明' },
      { name: 'not-a-rule', rule: 42 } as unknown as Scheme,
    ]);
    expect(m.names).toEqual(['ok']);
    expect(m.match('昆明滇池')).toEqual(['ok']);
    expect(m.invalid).toEqual([
      { name: 'bad', error: expect.stringContaining('AND needs a term after it'), position: 6 },
      { name: 'ok', error: 'duplicate scheme name' },
      { name: '#4', error: 'a scheme needs a name' },
      { name: 'not-a-rule', error: 'rule must be a string' },
    ]);
  });
  it.each([undefined, 0])('finds overlapping keywords and keywords inside others (dense table limit %s)', (maxDenseEntries) => {
    const m = compileSchemes(
      [
        { name: 'a', rule: '死去的城市' },
        { name: 'b', rule: '城市 AND 死去' },
        { name: 'c', rule: '去的' },
        { name: 'd', rule: '的城' },
        { name: 'e', rule: '市长' },
        { name: 'f', rule: 'abcd OR bc OR "c d"' },
      ],
      maxDenseEntries === undefined ? {} : { maxDenseEntries },
    );
    expect(m.match('正在死去的城市')).toEqual(['a', 'b', 'c', 'd']);
    expect(m.match('xabcx')).toEqual(['f']);
    expect(m.match('ABC D')).toEqual(['f']);
    expect(m.match('abd')).toEqual([]);
    expect(m.keywordCount).toBe(9);
  });
  it('agrees with evaluating each rule by substring search, on random rules and texts', () => {
    const words = ['昆明', '明天', '天气', '死去', '去的', 'ab', 'b', '城'];
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const randomRule = (depth: number): string => {
      const r = rand();
      if (depth === 0 || r < 0.3) return pick(words);
      if (r < 0.45) return `NOT ${randomRule(depth - 1)}`;
      if (r < 0.75) return `(${randomRule(depth - 1)} AND ${randomRule(depth - 1)})`;
      return `(${randomRule(depth - 1)} OR ${randomRule(depth - 1)})`;
    };
    const holds = (ast: RuleAst, text: string): boolean => {
      switch (ast.kind) {
        case 'term':
          return text.includes(ast.term);
        case 'not':
          return !holds(ast.operand, text);
        case 'and':
          return ast.operands.every((o) => holds(o, text));
        case 'or':
          return ast.operands.some((o) => holds(o, text));
      }
    };
    const schemes: Scheme[] = Array.from({ length: 200 }, (_, i) => ({ name: `r${i}`, rule: randomRule(3) }));
    for (const options of [{}, { maxDenseEntries: 0 }]) {
      const m = compileSchemes(schemes, options);
      for (let n = 0; n < 300; n++) {
        const text = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick([...words, '的', 'x', ' '])).join('');
        const expected = schemes.filter((s) => holds(parseRule(s.rule), text)).map((s) => s.name);
        expect(m.match(text)).toEqual(expected);
      }
    }
  });
  it('returns an empty list with no schemes', () => {
    expect(compileSchemes([]).match('昆明')).toEqual([]);
  });
  it('compiles and matches 1,000 schemes', () => {
    const places = ['昆明', '滇池', '翠湖', '呈贡', '官渡', '五华', '盘龙', '西山', '长水', '斗南'];
    const events = ['死去', '没落', '鬼城', '停水', '堵车', '延误', '涨价', '污染', '辟谣', '投诉'];
    const schemes: Scheme[] = [];
    for (let i = 0; i < 1000; i++) {
      const place = places[i % 10]!;
      const event = events[Math.floor(i / 10) % 10]!;
      schemes.push({ name: `scheme-${i}`, rule: `${place}${i}号 AND (${event} OR "${event}${i}") NOT 天气${i}` });
    }
    const m = compileSchemes(schemes);
    const sparse = compileSchemes(schemes, { maxDenseEntries: 0 });
    const probes = ['昆明0号今天死去了', '滇池531号停水 昆明0号死去 翠湖2号', '斗南999号 投诉', '天气531 滇池531号停水'];
    for (const text of probes) expect(sparse.match(text)).toEqual(m.match(text));
    expect(m.names).toHaveLength(1000);
    expect(m.invalid).toEqual([]);
    expect(m.match('昆明0号今天死去了')).toEqual(['scheme-0']);
    expect(m.match('滇池531号停水了')).toEqual(['scheme-531']);
    expect(m.match('滇池531号停水了 天气531')).toEqual([]);
    expect(m.match('滇池531号停水 昆明0号死去 翠湖2号')).toEqual(['scheme-0', 'scheme-2', 'scheme-531']);
    expect(m.match('斗南999号 投诉')).toEqual(['scheme-999']);
    expect(m.match('今天天气不错')).toEqual([]);
  });
});
