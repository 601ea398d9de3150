// The parts of ping@0.4.4 we use (the package ships no types).
declare module 'ping' {
  export interface PingConfig {
    numeric?: boolean;
    timeout?: number;
    deadline?: number;
    min_reply?: number;
    v6?: boolean;
    extra?: string[];
  }
  export interface PingResponse {
    host: string;
    alive: boolean;
    output: string;
    times: number[];
  }
  const ping: { promise: { probe(addr: string, config?: PingConfig): Promise<PingResponse> } };
  export default ping;
}
