/**
 * Public entry of @vantage/analyzer. Records are read only through the probe package's public
 * entry (@vantage/probe).
 */
// Hijack classification: the verdict, ground truth, settings and the pure classifier.
export * from './classify/verdict.ts';
