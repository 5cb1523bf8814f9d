/**
 * `@tingfeng/text/schemes`: the monitoring-scheme parser and matcher alone, for processes that validate or match
 * rules without the analyzer (the incidents API): importing the package root would load jieba's native module
 * and dictionaries too.
 */
export { compileSchemes, parseRule } from './schemes.js';
export type { Scheme, SchemeMatcher, RuleAst, InvalidScheme, CompileSchemesOptions } from './schemes.js';
export { SchemeRuleError } from './scheme-rule-error.js';
