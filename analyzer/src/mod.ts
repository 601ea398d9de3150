/**
 * Public entry of @vantage/analyzer. Not built yet: see the open issues. It will read records only
 * through the probe package's public entry (@vantage/probe).
 */
export {};
