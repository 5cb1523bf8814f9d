import { parseRule, SchemeRuleError, type RuleAst } from '@tingfeng/text/schemes';
import { SearchQueryError } from './errors.js';
import { emoticonLexeme, foldAscii, mentionLexeme, quoteLexeme, type SubwordFn } from './rows.js';

/**
 * Segments a query term into the words the archive indexes: it must be the analyzer's own segmentation
 * (normalisation, jieba with the project dictionary, the same stopwords), or a word cut one way in a post and another
 * way in the query would never meet. {@link createQueryTokenizer} builds it from `@tingfeng/text`.
 */
export type QueryTokenizer = (term: string) => string[];

const MENTION = /^@[^\s@]{1,64}$/;
const EMOTICON = /^\[[^[\]\s]{1,8}\]$/;

/**
 * Turns a search in the monitoring-scheme rule syntax (`昆明 AND (地铁 OR 公交) NOT 天气`, `"死去的城市"`, terms side
 * by side ANDed; see `parseRule` in `@tingfeng/text`) into `tsquery` input text for the archive's token index.
 *
 * Each term is segmented with `tokenize`: one word becomes a prefix match (`'昆明':*` also finds `昆明市`, as a
 * scheme's substring rule would) unless it is a single character; several words become a phrase
 * (`'死去' <-> '城市'`), which holds where they stand next to each other once stopwords are left out, on both sides
 * alike. `@name` and `[emoticon]` terms match those exactly. Throws {@link SearchQueryError} for a rule that does not
 * parse or a term with no searchable word in it (only stopwords or punctuation).
 */
export function compileSearchQuery(query: string, tokenize: QueryTokenizer): string {
  let ast: RuleAst;
  try {
    ast = parseRule(query);
  } catch (err) {
    if (err instanceof SchemeRuleError) throw new SearchQueryError(err.message, err.position, query);
    throw err;
  }
  return render(ast, query, tokenize, true);
}

function render(ast: RuleAst, query: string, tokenize: QueryTokenizer, top: boolean): string {
  switch (ast.kind) {
    case 'term':
      return termQuery(ast.term, ast.position, query, tokenize);
    case 'not':
      return `!${render(ast.operand, query, tokenize, false)}`;
    case 'and':
    case 'or': {
      const inner = ast.operands.map((o) => render(o, query, tokenize, false)).join(ast.kind === 'and' ? ' & ' : ' | ');
      return top ? inner : `( ${inner} )`;
    }
  }
}

function termQuery(term: string, position: number, query: string, tokenize: QueryTokenizer): string {
  const trimmed = term.trim();
  if (MENTION.test(trimmed)) return quoteLexeme(mentionLexeme(trimmed.slice(1)));
  if (EMOTICON.test(trimmed)) return quoteLexeme(emoticonLexeme(trimmed.slice(1, -1)));
  const words = tokenize(trimmed).map(foldAscii).filter((w) => w.length > 0);
  if (words.length === 0) {
    throw new SearchQueryError(`"${trimmed}" holds no searchable word (stopwords and punctuation are not indexed)`, position, query);
  }
  if (words.length === 1) {
    const word = words[0]!;
    return [...word].length >= 2 ? `${quoteLexeme(word)}:*` : quoteLexeme(word);
  }
  return `( ${words.map(quoteLexeme).join(' <-> ')} )`;
}

/**
 * {@link SubwordFn} from the analyzer's segmenter, with a cache: a post's tokens are mostly words seen before, so
 * the archiver pays one Map lookup per token instead of a jieba call. Loads jieba on first use.
 */
export function createSubwordLoader(maxCached = 200_000): () => Promise<SubwordFn> {
  let loading: Promise<SubwordFn> | undefined;
  return () =>
    (loading ??= import('@tingfeng/text').then(({ Segmenter }) => {
      const segmenter = new Segmenter();
      const cache = new Map<string, readonly string[]>();
      const none: readonly string[] = [];
      return (token: string) => {
        let words = cache.get(token);
        if (words === undefined) {
          if (cache.size >= maxCached) cache.clear();
          const found = segmenter.subwords(token);
          words = found.length === 0 ? none : found;
          cache.set(token, words);
        }
        return words;
      };
    }));
}

/**
 * The analyzer's segmentation for queries: `normalizeText` (full-width, traditional → simplified) then the
 * `Segmenter`'s tokens. Loads jieba (about a second, once per process) on first use, not at import.
 */
export function createQueryTokenizer(): () => Promise<QueryTokenizer> {
  let loading: Promise<QueryTokenizer> | undefined;
  return () =>
    (loading ??= import('@tingfeng/text').then(({ normalizeText, Segmenter }) => {
      const segmenter = new Segmenter();
      return (term: string) => segmenter.tokenize(normalizeText(term));
    }));
}
