/**
 * Public entry of @vantage/probe: the wire contract. The collector and analyzer import only
 * this (record types, subjects, the validator, failure codes), never the probe's internals.
 */
export * from './contract/failure.ts';
export * from './contract/heartbeat.ts';
export * from './contract/record.ts';
export * from './contract/subjects.ts';
export * from './contract/validate.ts';
export { parseConfig, loadConfig, ConfigError } from './config/config.ts';
export type { ProbeConfig, Task, DnsTask, HttpTask, TcpTask, PingTask } from './config/config.ts';
