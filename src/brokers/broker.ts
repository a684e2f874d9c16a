import type { FaultTarget, PowerCut, PowerLossMode } from '../core/contract.ts';

/**
 * One interface for a broker deployment, whoever runs it: the harness as child processes
 * (native), docker compose, or the user (external). Adapters talk to brokers only through
 * this, so tests and CI (native) and Docker users (compose) run the same adapter code.
 */
export interface BrokerDeployment {
  /** e.g. "nats", "pulsar" */
  readonly system: string;
  readonly mode: 'native' | 'compose' | 'external';
  /** what ran: version and where it came from, recorded in the result file */
  describe(): BrokerDescription;
  /** client URLs, e.g. ["nats://127.0.0.1:4222"]; valid once started */
  urls(): string[];
  /** starts (or attaches) and resolves once the broker answers clients */
  start(): Promise<void>;
  /** graceful stop; idempotent */
  stop(): Promise<void>;
  /**
   * kill -9 of every broker process, or of `target`'s where the deployment runs several
   * nodes (checkRun refused names it does not run); rejected for external brokers
   */
  kill(target?: FaultTarget): Promise<void>;
  /**
   * Native deployments started with their data on the power-loss layer: SIGKILL of every
   * broker process, then the layer drops what no fsync covered; restart() comes next.
   */
  powerLoss?(mode: PowerLossMode): Promise<PowerCut>;
  /** On the power-loss layer: its counts since the last mount (writes, bytes, fsyncs), for BrokerCounts.detail. */
  dataLayerStats?(): Promise<Record<string, number>>;
  /** With powerLoss: the kernel's periodic write-back of the data directory (FaultInjector.settle). */
  settle?(): Promise<void>;
  /** starts again on the same data and waits until ready: after a kill of some nodes, those nodes */
  restart(): Promise<void>;
  /** the running broker processes, where the harness started them (native) */
  processes?(): Array<{ name: string; pid: number }>;
  /**
   * Native deployments: why the service did not come back after a restart, from the
   * broker's own log since then (FaultInjector.serviceProblem), or undefined.
   */
  serviceProblem?(): string | undefined;
  /** last lines of the broker log(s), for error messages */
  logTail(lines?: number): string;
}

export interface BrokerDescription {
  system: string;
  mode: 'native' | 'compose' | 'external';
  version: string;
  /** where the program came from, e.g. "go install github.com/nats-io/nats-server/v2@v2.15.2" */
  source: string;
  topology: string;
  urls: string[];
  [key: string]: unknown;
}
