import { normalizeText, toHalfWidth } from './normalize.js';
import { SchemeRuleError } from './scheme-rule-error.js';

/**
 * A monitoring scheme (监测方案): a named boolean keyword rule, optionally limited to a list of accounts.
 * Stored by the incidents API as JSON; the analyzer tags each post with the names of the schemes it matches.
 */
export interface Scheme {
  /** Unique name; what posts, alerts and incidents carry. */
  name: string;
  /**
   * `昆明 AND (死去 OR 没落 OR 鬼城) NOT 天气`. Operators AND, OR, NOT (upper case; lower-case `and` is a word to
   * look for), parentheses, `"quoted phrases"` (also `“…”`) for terms holding spaces or operator words; terms next
   * to each other are ANDed. NOT binds tighter than AND, AND tighter than OR: `A OR B NOT C` is `A OR (B AND NOT C)`.
   * Terms are matched as substrings of the post's normalised text (simplified Chinese, half-width, ASCII case
   * folded), so `昆明` matches `昆明市` and a traditional `崑明`-free rule still matches `這個城市` as `这个城市`.
   * May be empty when `accounts` is given: every post of those accounts matches.
   */
  rule: string;
  /** Only posts by these accounts (author id or nickname, a leading `@` ignored, case-insensitive). */
  accounts?: string[];
  /** `false` switches the scheme off without deleting it. Default true. */
  enabled?: boolean;
  /**
   * The scheme's daily report (舆情日报): with `daily` set, the incidents service builds it every morning and sends
   * its link and summary to `channels` (ids of `{p}config:channels`). The analyzer ignores it.
   */
  report?: { daily: boolean; channels?: string[] };
}

/** A parsed rule. Terms are as written (unquoted); the matcher normalises them. */
export type RuleAst =
  | { kind: 'term'; term: string; position: number }
  | { kind: 'not'; operand: RuleAst }
  | { kind: 'and'; operands: RuleAst[] }
  | { kind: 'or'; operands: RuleAst[] };

/** A scheme that could not be compiled, and why. */
export interface InvalidScheme {
  /** The scheme's name, or `#<index>` when it has none. */
  name: string;
  error: string;
  /** Offset in the rule, for rule syntax errors. */
  position?: number;
}

/** Compiled schemes: one pass over a post finds every keyword of every scheme, then each rule is evaluated. */
export interface SchemeMatcher {
  /** Names of the schemes compiled (enabled and valid), in the order given. */
  readonly names: readonly string[];
  /** Schemes skipped because they are malformed. */
  readonly invalid: readonly InvalidScheme[];
  /** Distinct keywords in the automaton. */
  readonly keywordCount: number;
  /**
   * Names of the schemes `text` matches, in scheme order. `author` is the post's author id and/or nickname, for
   * schemes with an account list (without it, such schemes never match).
   */
  match(text: string, author?: string | readonly (string | undefined)[]): string[];
  /** {@link match} on text already through `normalizeText` (the analyzer has it): skips normalising again. */
  matchNormalized(normalizedText: string, author?: string | readonly (string | undefined)[]): string[];
}

type Token =
  | { kind: 'and' | 'or' | 'not' | 'open' | 'close'; position: number }
  | { kind: 'term'; position: number; term: string };

const OPERATORS: Readonly<Record<string, 'and' | 'or' | 'not'>> = { AND: 'and', OR: 'or', NOT: 'not' };

function tokenize(rule: string): Token[] {
  // Full-width brackets and quotes become ASCII; the conversion keeps every offset, so positions stay true.
  const source = toHalfWidth(rule);
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'open' : 'close', position: i });
      i++;
    } else if (c === '"' || c === '“') {
      const closer = c === '"' ? '"' : '”';
      const end = source.indexOf(closer, i + 1);
      if (end < 0) throw new SchemeRuleError(`unterminated quote ${c}`, i, rule);
      const term = source.slice(i + 1, end);
      if (term.trim().length === 0) throw new SchemeRuleError('empty phrase', i, rule);
      tokens.push({ kind: 'term', position: i, term });
      i = end + 1;
    } else if (c === '”') {
      throw new SchemeRuleError('closing quote ” without an opening “', i, rule);
    } else {
      const start = i;
      while (i < source.length && !/[\s()"“”]/.test(source[i]!)) i++;
      const word = source.slice(start, i);
      const op = OPERATORS[word];
      tokens.push(op !== undefined ? { kind: op, position: start } : { kind: 'term', position: start, term: word });
    }
  }
  return tokens;
}

/**
 * Parses a scheme rule. Throws {@link SchemeRuleError} (with the offset) for an empty rule, an operator without an
 * operand, an unbalanced parenthesis, an empty pair of parentheses or phrase, or an unterminated quote.
 */
export function parseRule(rule: string): RuleAst {
  const tokens = tokenize(rule);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const startsOperand = (t: Token | undefined): boolean => t !== undefined && (t.kind === 'term' || t.kind === 'open' || t.kind === 'not');
  const endPosition = (): number => rule.length;

  const operand = (after: Token): RuleAst => {
    const t = peek();
    if (!startsOperand(t)) {
      const word = after.kind === 'open' ? '(' : after.kind.toUpperCase();
      throw new SchemeRuleError(`${word} needs a term after it`, t?.position ?? endPosition(), rule);
    }
    return unary();
  };

  function unary(): RuleAst {
    const t = peek();
    if (t === undefined) throw new SchemeRuleError('the rule ends where a term is expected', endPosition(), rule);
    if (t.kind === 'term') {
      at++;
      return { kind: 'term', term: t.term, position: t.position };
    }
    if (t.kind === 'not') {
      at++;
      return { kind: 'not', operand: operand(t) };
    }
    if (t.kind === 'open') {
      at++;
      if (peek()?.kind === 'close') throw new SchemeRuleError('empty parentheses', t.position, rule);
      const inner = or();
      const close = peek();
      if (close?.kind !== 'close') throw new SchemeRuleError('missing ) for this (', t.position, rule);
      at++;
      return inner;
    }
    if (t.kind === 'close') throw new SchemeRuleError('unexpected )', t.position, rule);
    throw new SchemeRuleError(`${t.kind.toUpperCase()} needs a term before it`, t.position, rule);
  }

  function and(): RuleAst {
    const operands = [unary()];
    for (;;) {
      const t = peek();
      if (t?.kind === 'and') {
        at++;
        operands.push(operand(t));
      } else if (startsOperand(t)) operands.push(unary()); // juxtaposition is AND
      else break;
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  function or(): RuleAst {
    const operands = [and()];
    for (let t = peek(); t?.kind === 'or'; t = peek()) {
      at++;
      operands.push(operandAnd(t));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  const operandAnd = (after: Token): RuleAst => {
    if (!startsOperand(peek())) return operand(after);
    return and();
  };

  if (tokens.length === 0) throw new SchemeRuleError('empty rule', 0, rule);
  const ast = or();
  const rest = peek();
  if (rest !== undefined) throw new SchemeRuleError(rest.kind === 'close' ? 'unexpected )' : 'unexpected token', rest.position, rule);
  return ast;
}

/** Keywords and accounts are compared in the matcher's normal form: normalised text, ASCII lower case. */
function keywordForm(term: string): string {
  return foldAscii(normalizeText(term));
}

function accountForm(account: string): string {
  const trimmed = account.trim();
  return foldAscii(trimmed.charCodeAt(0) === 64 ? trimmed.slice(1) : trimmed);
}

function foldAscii(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return text.toLowerCase();
  }
  return text;
}

/** Options of {@link compileSchemes}. */
export interface CompileSchemesOptions {
  /**
   * Largest dense transition table built, in entries (4 bytes each); beyond it the automaton walks Map transitions
   * with failure links instead, slower per character. Default 4M entries (16 MB), room for thousands of keywords.
   */
  maxDenseEntries?: number;
}

const DEFAULT_MAX_DENSE_ENTRIES = 1 << 22;

/**
 * Aho–Corasick over UTF-16 units: every keyword found in one pass, whatever their number. Written here rather
 * than taken from npm because the matcher needs only "which keywords occur" (no positions, no replacement), which
 * fits in a few dozen lines with typed arrays and no allocation per scan.
 *
 * Units are first mapped to a small alphabet (the units keywords hold; 0 for every other, which sends the scan
 * back to the root at once). When states × alphabet is small enough (a few hundred schemes), the transitions are
 * a dense table with the failure links folded in: one array read per character.
 */
class KeywordAutomaton {
  private readonly next: Map<number, number>[] = [new Map()];
  /** Pattern id ending at a node, or -1. */
  private readonly terminal: number[] = [-1];
  private fail = new Int32Array(0);
  /** Nearest proper suffix node that ends a pattern (0 when none). */
  private outLink = new Int32Array(0);
  /** First node to report at a state: itself if it ends a pattern, else its `outLink` (0: nothing). */
  private firstOut = new Int32Array(0);
  private readonly ids = new Map<string, number>();
  /** Alphabet index of each UTF-16 unit; 0 for units no keyword holds. */
  private readonly classOf = new Uint16Array(0x10000);
  private classes = 0;
  /** states × (classes + 1) transitions with failure links resolved, or undefined when too large. */
  private dense: Int32Array | undefined;

  /** Length of each keyword, by id. */
  readonly lengths: number[] = [];

  get size(): number {
    return this.ids.size;
  }

  /** Adds a keyword (already in normal form) and returns its id; the same keyword gets the same id. */
  add(keyword: string): number {
    const known = this.ids.get(keyword);
    if (known !== undefined) return known;
    let node = 0;
    for (let i = 0; i < keyword.length; i++) {
      const unit = keyword.charCodeAt(i);
      if (this.classOf[unit] === 0) this.classOf[unit] = ++this.classes;
      const c = this.classOf[unit]!;
      let child = this.next[node]!.get(c);
      if (child === undefined) {
        child = this.next.length;
        this.next.push(new Map());
        this.terminal.push(-1);
        this.next[node]!.set(c, child);
      }
      node = child;
    }
    const id = this.ids.size;
    this.terminal[node] = id;
    this.ids.set(keyword, id);
    this.lengths.push(keyword.length);
    return id;
  }

  /** Computes failure and output links (and the dense table), breadth first. Call once after the last `add`. */
  build(maxDenseEntries: number): void {
    const count = this.next.length;
    this.fail = new Int32Array(count);
    this.outLink = new Int32Array(count);
    this.firstOut = new Int32Array(count);
    const order: number[] = [0];
    for (let head = 0; head < order.length; head++) {
      const node = order[head]!;
      for (const [c, child] of this.next[node]!) {
        let suffix = 0;
        if (node !== 0) {
          let f = this.fail[node]!;
          let target = this.next[f]!.get(c);
          while (target === undefined && f !== 0) {
            f = this.fail[f]!;
            target = this.next[f]!.get(c);
          }
          suffix = target ?? 0;
        }
        this.fail[child] = suffix;
        this.outLink[child] = this.terminal[suffix]! >= 0 ? suffix : this.outLink[suffix]!;
        order.push(child);
      }
    }
    for (let node = 1; node < count; node++) this.firstOut[node] = this.terminal[node]! >= 0 ? node : this.outLink[node]!;
    const width = this.classes + 1;
    if (count * width > maxDenseEntries) return;
    const dense = new Int32Array(count * width);
    // Breadth-first, so a node's failure state (shallower) is complete before the node copies its row.
    for (const node of order) {
      const row = node * width;
      const failRow = this.fail[node]! * width;
      for (let c = 1; c < width; c++) dense[row + c] = this.next[node]!.get(c) ?? (node === 0 ? 0 : dense[failRow + c]!);
    }
    this.dense = dense;
  }

  /** Calls `found(id)` for each keyword occurrence in `text` (ASCII folded to lower case on the fly). */
  scan(text: string, found: (id: number) => void): void {
    const classOf = this.classOf;
    const terminal = this.terminal;
    const outLink = this.outLink;
    const firstOut = this.firstOut;
    const dense = this.dense;
    const width = this.classes + 1;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      let unit = text.charCodeAt(i);
      if (unit >= 65 && unit <= 90) unit += 32;
      const c = classOf[unit]!;
      // A unit no keyword holds has no transition from anywhere: back to the root, no lookups.
      if (c === 0) {
        state = 0;
        continue;
      }
      if (dense !== undefined) state = dense[state * width + c]!;
      else state = this.step(state, c);
      for (let node = firstOut[state]!; node !== 0; node = outLink[node]!) found(terminal[node]!);
    }
  }

  private step(from: number, c: number): number {
    let state = from;
    let target = this.next[state]!.get(c);
    while (target === undefined && state !== 0) {
      state = this.fail[state]!;
      target = this.next[state]!.get(c);
    }
    return target ?? 0;
  }
}

const TERM = 0;
const NOT = 1;
const AND = 2;
const OR = 3;
/**
 * A rule over keyword ids. One shape for every node (a NOT has one operand, a term none) so that evaluation reads
 * monomorphic objects: with a union of shapes, `kind` was a megamorphic load on every node of every post.
 */
interface Compiled {
  kind: typeof TERM | typeof NOT | typeof AND | typeof OR;
  id: number;
  operands: Compiled[];
}

function compileAst(ast: RuleAst, rule: string, automaton: KeywordAutomaton): Compiled {
  switch (ast.kind) {
    case 'term': {
      const keyword = keywordForm(ast.term);
      if (keyword.length === 0) throw new SchemeRuleError('empty term after normalisation', ast.position, rule);
      return { kind: TERM, id: automaton.add(keyword), operands: [] };
    }
    case 'not':
      return { kind: NOT, id: -1, operands: [compileAst(ast.operand, rule, automaton)] };
    default:
      return { kind: ast.kind === 'and' ? AND : OR, id: -1, operands: ast.operands.map((o) => compileAst(o, rule, automaton)) };
  }
}

/** Whether `rule` holds when the keywords found are those with `foundIn[id] === stamp`. Loops, not closures: hot. */
function evaluate(rule: Compiled, foundIn: Uint32Array, stamp: number): boolean {
  const kind = rule.kind;
  if (kind === TERM) return foundIn[rule.id] === stamp;
  const operands = rule.operands;
  if (kind === NOT) return !evaluate(operands[0]!, foundIn, stamp);
  if (kind === AND) {
    for (let i = 0; i < operands.length; i++) if (!evaluate(operands[i]!, foundIn, stamp)) return false;
    return true;
  }
  for (let i = 0; i < operands.length; i++) if (evaluate(operands[i]!, foundIn, stamp)) return true;
  return false;
}

/**
 * Keywords of which at least one must be found for `rule` to hold, or undefined when the rule can hold with none
 * found (a NOT at the top). A scheme is only evaluated on posts holding one of them: for an AND, one operand's
 * keywords are enough, and the fewest (longest on a tie, as longer words are rarer) are taken.
 */
function triggers(rule: Compiled, lengthOf: (id: number) => number): number[] | undefined {
  if (rule.kind === TERM) return [rule.id];
  if (rule.kind === NOT) return undefined;
  if (rule.kind === OR) {
    const all = new Set<number>();
    for (const o of rule.operands) {
      const t = triggers(o, lengthOf);
      if (t === undefined) return undefined;
      for (const id of t) all.add(id);
    }
    return [...all];
  }
  let best: number[] | undefined;
  let bestLength = 0;
  for (const o of rule.operands) {
    const t = triggers(o, lengthOf);
    if (t === undefined) continue;
    const length = Math.min(...t.map(lengthOf));
    if (best === undefined || t.length < best.length || (t.length === best.length && length > bestLength)) {
      best = t;
      bestLength = length;
    }
  }
  return best;
}

interface CompiledScheme {
  name: string;
  /** Undefined for an accounts-only scheme. */
  rule: Compiled | undefined;
  accounts: ReadonlySet<string> | undefined;
}

/**
 * Compiles schemes into one matcher. Never throws for a bad scheme: disabled ones are left out, malformed ones
 * (no name, a duplicate name, a rule that does not parse) are listed in `invalid` and left out, so one analyst's
 * typo does not stop every other scheme.
 */
export function compileSchemes(schemes: readonly Scheme[], options: CompileSchemesOptions = {}): SchemeMatcher {
  const automaton = new KeywordAutomaton();
  const compiled: CompiledScheme[] = [];
  const invalid: InvalidScheme[] = [];
  const names = new Set<string>();
  // Which schemes a keyword can make true; schemes true with no keyword at all (`NOT 天气`, accounts only) are
  // evaluated on every post.
  const byKeyword: number[][] = [];
  const always: number[] = [];

  schemes.forEach((scheme: unknown, index) => {
    const s = (typeof scheme === 'object' && scheme !== null ? scheme : {}) as Partial<Record<keyof Scheme, unknown>>;
    const name = typeof s.name === 'string' ? s.name.trim() : '';
    const label = name.length > 0 ? name : `#${index}`;
    if (name.length === 0) return void invalid.push({ name: label, error: 'a scheme needs a name' });
    if (s.enabled === false) return;
    if (names.has(name)) return void invalid.push({ name, error: 'duplicate scheme name' });
    if (typeof s.rule !== 'string') return void invalid.push({ name, error: 'rule must be a string' });
    if (s.accounts !== undefined && !(Array.isArray(s.accounts) && s.accounts.every((a) => typeof a === 'string'))) {
      return void invalid.push({ name, error: 'accounts must be a list of strings' });
    }
    const accountList = (s.accounts as string[] | undefined)?.map(accountForm).filter((a) => a.length > 0);
    const accounts = accountList !== undefined && accountList.length > 0 ? new Set(accountList) : undefined;
    let rule: Compiled | undefined;
    if (s.rule.trim().length > 0 || accounts === undefined) {
      try {
        rule = compileAst(parseRule(s.rule), s.rule, automaton);
      } catch (err) {
        if (!(err instanceof SchemeRuleError)) throw err;
        return void invalid.push({ name, error: err.message, position: err.position });
      }
    }
    names.add(name);
    const at = compiled.length;
    compiled.push({ name, rule, accounts });
    const keys = rule === undefined ? undefined : triggers(rule, (id) => automaton.lengths[id] ?? 0);
    if (keys === undefined) always.push(at);
    else for (const id of keys) (byKeyword[id] ??= []).push(at);
  });
  automaton.build(options.maxDenseEntries ?? DEFAULT_MAX_DENSE_ENTRIES);

  // Scratch state reused across calls (matching is synchronous): stamps instead of clearing per post.
  let stamp = 0;
  const foundIn = new Uint32Array(automaton.size);
  const candidateIn = new Uint32Array(compiled.length);
  const candidates: number[] = [];
  const matched: number[] = [];
  const onFound = (id: number): void => {
    if (foundIn[id] === stamp) return;
    foundIn[id] = stamp;
    for (const at of byKeyword[id] ?? []) {
      if (candidateIn[at] !== stamp) {
        candidateIn[at] = stamp;
        candidates.push(at);
      }
    }
  };

  function matchNormalized(text: string, author?: string | readonly (string | undefined)[]): string[] {
    if (compiled.length === 0) return [];
    if (++stamp === 0xffffffff) {
      foundIn.fill(0);
      candidateIn.fill(0);
      stamp = 1;
    }
    candidates.length = 0;
    automaton.scan(text, onFound);
    for (const at of always) candidates.push(at);
    if (candidates.length === 0) return [];
    let authors: string[] | undefined;
    matched.length = 0;
    for (const at of candidates) {
      const scheme = compiled[at]!;
      if (scheme.accounts !== undefined) {
        authors ??= authorForms(author);
        if (!authors.some((a) => scheme.accounts!.has(a))) continue;
      }
      if (scheme.rule === undefined || evaluate(scheme.rule, foundIn, stamp)) matched.push(at);
    }
    // Scheme order; usually a few, so an insertion sort.
    for (let i = 1; i < matched.length; i++) {
      const value = matched[i]!;
      let j = i - 1;
      for (; j >= 0 && matched[j]! > value; j--) matched[j + 1] = matched[j]!;
      matched[j + 1] = value;
    }
    const out: string[] = new Array<string>(matched.length);
    for (let i = 0; i < matched.length; i++) out[i] = compiled[matched[i]!]!.name;
    return out;
  }

  return {
    names: compiled.map((c) => c.name),
    invalid,
    keywordCount: automaton.size,
    matchNormalized,
    match: (text, author) => matchNormalized(normalizeText(text), author),
  };
}

function authorForms(author: string | readonly (string | undefined)[] | undefined): string[] {
  if (author === undefined) return [];
  const list = typeof author === 'string' ? [author] : author;
  const out: string[] = [];
  for (const a of list) if (a !== undefined && a.length > 0) out.push(accountForm(a));
  return out;
}
