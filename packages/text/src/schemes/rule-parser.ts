import { toHalfWidth } from '../normalize.js';
import { SchemeRuleError } from './scheme-rule-error.js';

/** A parsed rule. Terms are as written (unquoted); the matcher normalises them. */
export type RuleAst =
  | { kind: 'term'; term: string; position: number }
  | { kind: 'not'; operand: RuleAst }
  | { kind: 'and'; operands: RuleAst[] }
  | { kind: 'or'; operands: RuleAst[] };

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
