/**
 * Public entry of @vantage/analyzer. Records are read only through the probe package's public
 * entry (@vantage/probe).
 */
// Hijack classification: the verdict, ground truth, settings and the pure classifier.
export * from './classify/verdict.ts';
export { classifyRecord, classifyRecords, sortVerdicts, type ClassifyOptions } from './classify/classifier.ts';
export { GroundTruth, type TruthStatus } from './classify/ground-truth.ts';
export { Expectations, type Expectation, type ExpectBlock } from './classify/expectations.ts';
export {
  DEFAULT_SETTINGS, defaultSettings, parseAnalyzerSettings, SettingsError, type AnalyzerSettings,
} from './classify/settings.ts';
export { AsnTable, parseAsnTable, type AsnInfo } from './classify/asn-table.ts';
