/** Parquet output for @xception/batch's results, in an entry of its own: apache-arrow and hyparquet load only where a Parquet file is written or read. */
export { readParquetHeader, readParquetRecords, toRecord, writeParquet, writeParquetFromJournal, type ClassifyRecord, type EmbedRecord, type ParquetHeader, type ParquetRecord } from './parquet-output.js';
export { parquetJournalOf, type ParquetKind } from './parquet-journal.js';
