export { createArchive, retentionCutoff } from './archive.js';
export type { Archive, ArchiveOptions, WriteOptions } from './archive.js';
export { migrateArchive, checkSchemaName, MIGRATIONS_DIR } from './migrate.js';
export type { MigrateOptions } from './migrate.js';
export { compileSearchQuery, createQueryTokenizer, createSubwordLoader } from './query.js';
export type { QueryTokenizer } from './query.js';
export { prepareBatch, encodeRows, sliceRows, rowCount, tsvectorText, monthOf, COPY_COLUMNS } from './rows.js';
export type { SubwordFn, EncodedRows } from './rows.js';
export { SearchQueryError, ArchiveInputError } from './errors.js';
export { EXPORT_COLUMNS } from './types.js';
export type {
  ArchivedPost,
  PostFilter,
  SentimentFilter,
  TimeBound,
  SearchOptions,
  SearchPage,
  HistogramOptions,
  HistogramBucket,
  TermCount,
  AccountCount,
  CascadeCount,
  WriteResult,
  ExportOptions,
  PartitionInfo,
} from './types.js';
