/**
 * `@tingfeng/text/schemes`: the monitoring-scheme parser and matcher alone, for processes that validate or match
 * rules without the analyzer (the incidents API): importing the package root would load jieba's native module
 * and dictionaries too.
 */
export { compileSchemes } from './schemes/matcher.js';
export type { Scheme, SchemeMatcher, InvalidScheme, CompileSchemesOptions } from './schemes/matcher.js';
export { parseRule } from './schemes/rule-parser.js';
export type { RuleAst } from './schemes/rule-parser.js';
export { SchemeRuleError } from './schemes/scheme-rule-error.js';
