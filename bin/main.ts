/** The process entry of `vantage`: run the command line, exit with its code. */
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
