/** JSON-lines logging to stderr (one object per line), as every Vantage process logs. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>;

export function jsonLogger(component: string, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const at = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) =>
    write(`${JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields })}\n`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
