import { normalizeText } from '../normalize.js';
import { KeywordAutomaton } from './keyword-automaton.js';
import { parseRule, type RuleAst } from './rule-parser.js';
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

/** Options of {@link compileSchemes}. */
export interface CompileSchemesOptions {
  /**
   * Largest dense transition table built, in entries (4 bytes each); beyond it the automaton walks Map transitions
   * with failure links instead, slower per character. Default 4M entries (16 MB), room for thousands of keywords.
   */
  maxDenseEntries?: number;
}

const DEFAULT_MAX_DENSE_ENTRIES = 1 << 22;

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
