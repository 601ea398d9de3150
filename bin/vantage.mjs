#!/usr/bin/env node
// The `vantage` command from source: registers tsx so the TypeScript runs as it is. Production
// boxes run the bundle instead (`npm run build` → dist/vantage.mjs, same commands).
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
