export { createAnalyzer } from './analyzer.js';
export type { Analyzer, AnalyzerOptions } from './analyzer.js';
export { normalizeText, toHalfWidth, toSimplifiedChinese, collapseWhitespace, mayNeedSimplification } from './normalize.js';
export { extractMarkup, splitRepostChain } from './markup.js';
export type { Markup, RepostSplit } from './markup.js';
export { Segmenter, readUserDictionary } from './segment.js';
export type { SegmenterOptions, DictionaryReloadResult, DictionaryWatchOptions } from './segment.js';
export { extractKeywords, loadIdfTable, defaultIdfTable, JIEBA_IDF_PATH } from './keywords.js';
export type { IdfTable } from './keywords.js';
export { detectSpam, SPAM_THRESHOLD } from './spam.js';
export type { SpamInput, SpamVerdict } from './spam.js';
export { loadSentimentLexicon, scoreSentiment, lexiconSum } from './sentiment.js';
export {
  loadSentimentModel,
  parseSentimentModel,
  serializeSentimentModel,
  GramTable,
  SentimentModelError,
  SENTIMENT_MODEL_PATH,
  NEGATION_SCOPE,
} from './sentiment-model.js';
export type { SentimentModel } from './sentiment-model.js';
export { SentimentScorer, NO_VERDICT } from './sentiment-scorer.js';
export type { SentimentVerdict } from './sentiment-scorer.js';
export {
  labelPosts,
  splitOfGroup,
  Featurizer,
  trainLogistic,
  rowLogit,
  fitTemperature,
  buildModel,
  emoticonCooccurrence,
  learnEmoticonWeights,
  fitScale,
  emoticonEvidence,
  LABEL_EMOTICON_WEIGHT,
  MIN_COOCCURRENCE,
} from './sentiment-training.js';
export type { TrainingExample, LabelStats, FeatureRow, LogisticOptions, Cooccurrence } from './sentiment-training.js';
export type { SentimentLexicon } from './sentiment.js';
export { DICT_DIR, readWordList } from './dict-files.js';
export { compileSchemes } from './schemes/matcher.js';
export type { Scheme, SchemeMatcher, InvalidScheme, CompileSchemesOptions } from './schemes/matcher.js';
export { parseRule } from './schemes/rule-parser.js';
export type { RuleAst } from './schemes/rule-parser.js';
export { SchemeRuleError } from './schemes/scheme-rule-error.js';
