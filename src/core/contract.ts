/**
 * The adapter contract: the one place every messaging system meets the harness.
 *
 * A system is a folder under src/adapters/<name>/ with two modules:
 *   - index.ts  exports `adapter: SystemAdapter<Options, WorkerInit>`  (main thread: brokers, topics, checks)
 *   - worker.ts exports `workerSide: WorkerSide<WorkerInit>`         (worker threads: producers, consumers)
 * Nothing else has to change to add a system; the registry finds the folder. Inside it,
 * every system keeps the same files for the same jobs, so that one reads like another:
 *   - options.ts   the typed Options, parseOptions and checkRun
 *   - session.ts   the SystemSession class and openSession(ctx), which index.ts calls open
 *   - init.ts      the WorkerInit type
 *   - producer.ts, consumer.ts   the worker-side Producer and Consumer that worker.ts builds
 * and further files named for what they do (a wire client, a server, a child process).
 *
 * Two type parameters carry a system's own types across the contract: `Options`, what its
 * parseOptions makes of its scenario section (and what capabilities and open receive), and
 * `WorkerInit`, what its session hands its workers. Inside the adapter both are typed, so
 * nothing is parsed twice or cast. Both are plain data, declared with `type` rather than
 * `interface` so that they fit `ErasedOptions` and `Cloneable`. The engine holds many
 * systems at once and sees them erased (the default parameters: `ErasedAdapter` in the
 * registry, whose loaders are the one place a system's own types are dropped).
 *
 * Data flows one way. The main thread opens a `SystemSession` (starting or attaching to a
 * broker, creating the stream/topic/buffer) whose `workerInit` is structured-cloned into
 * every load-generating worker. Workers build producers and consumers from it. The
 * harness, not the adapter, owns message content, sequence numbers, clocks, histograms
 * and the delivery ledger, so every system is measured the same way.
 *
 * Hot-path shape: batches, not single messages, and `T | Promise<T>` returns, so an
 * in-process system can run synchronously with no promise per message while a network
 * client stays asynchronous.
 */

import type { KeyPlan } from './keys.ts';
import type { PartitionPlan } from './partitions.ts';

/**
 * How far acknowledged messages survive, from weakest to strongest:
 *   - 'none': not across any crash (memory only);
 *   - 'process-crash': across a kill -9 of the broker processes, whose writes the OS
 *     page cache still holds (data is written before the ack, fsynced later or never);
 *   - 'power-loss': across a power loss or OS crash too (fsynced before the ack).
 */
export type DurabilityLevel = 'none' | 'process-crash' | 'power-loss';

export const DURABILITY_LEVELS: readonly DurabilityLevel[] = ['none', 'process-crash', 'power-loss'];

/** What a system promises under the configuration it was opened with. */
export interface Capabilities {
  /** which crash acknowledged messages survive */
  durability: DurabilityLevel;
  /** the broker acknowledges each publish; otherwise "acked" means "accepted locally" */
  acks: boolean;
  /** messages of one producer reach a consumer in the order sent */
  perProducerOrdering: boolean;
  /** the system drops a re-sent (producer, sequence) by itself */
  deduplication: boolean;
  /** atomic consume-process-produce (transactions) */
  transactions: boolean;
  /**
   * How an exactly-once consumer of this system recognises a message it already applied,
   * kept in the consumer's state store and updated atomically with the state:
   *   - 'message-id': a record of applied (producer, sequence) ids (NATS, Pulsar);
   *   - 'offset': the highest applied sequence per producer, which is enough only where
   *     each producer's messages arrive in order (the ring buffer).
   */
  idempotencyRecord: 'message-id' | 'offset';
}

/** Anything structured-clone can carry to a worker. */
export type Cloneable =
  | string
  | number
  | boolean
  | null
  | undefined
  | SharedArrayBuffer
  | Cloneable[]
  | { [key: string]: Cloneable };

/**
 * Options as the engine holds them: a plain record (it is written into the result file),
 * validated by the adapter it came from and handed back only to that adapter.
 */
export type ErasedOptions = Record<string, unknown>;

/** What the harness tells a system when opening it for a run. */
export interface OpenContext<Options extends ErasedOptions = ErasedOptions> {
  /** unique id of this run; names streams/topics so runs never collide */
  runId: string;
  /** folder of this run: broker data directories and logs live under it */
  runDir: string;
  producers: number;
  consumers: number;
  messageSize: number;
  /** the bounded in-flight window per producer (unacknowledged messages) */
  maxInFlight: number;
  /** the key each message carries (a workload field; absent = none); systems that cannot key refuse it in checkRun */
  keys?: KeyPlan;
  /**
   * the ordering domains messages are spread over (a workload field; absent = 1), routed
   * as src/core/partitions.ts says; systems that cannot partition refuse it in checkRun
   */
  partitions?: PartitionPlan;
  /**
   * streams, topics or lane sets (a workload field; absent = 1): producer p writes topic
   * p mod topics, consumer c reads topic c mod topics (src/core/topics.ts); systems that
   * cannot refuse more than 1 in checkRun
   */
  topics?: number;
  /** who runs the brokers: the harness (native), docker compose, or the user (external) */
  brokers: 'native' | 'compose' | 'external';
  /** broker URLs for `external` mode, by system name */
  externalUrls: Record<string, string>;
  /** the system's own section of the scenario, as `parseOptions` returned it */
  options: Options;
  /**
   * Pipeline stages: the session creates this many independent topics (streams, lane
   * sets). The harness's producers publish to stage 0; a stage processor consumes stage
   * i and publishes to stage i+1. 1 for every scenario but the pipeline.
   */
  stages?: number;
  /**
   * The fault the run will inject, when one is planned: for 'power-loss' the session puts
   * the broker's data on the power-loss layer and offers FaultInjector.powerLoss.
   */
  fault?: FaultKind;
  /** the broker's data on the power-loss layer with no fault planned: to measure what the layer costs */
  powerLossLayer?: boolean;
  /** progress lines for the user (broker install/start), never on the hot path */
  log(line: string): void;
}

/**
 * A power loss's target is the machines that lose power: every node by default; one node
 * or a majority only where the deployment puts each node's data on a layer of its own
 * (the Pulsar cluster), so the other nodes run on, as other machines would.
 */
export type FaultKind = { type: 'kill'; target?: FaultTarget } | { type: 'power-loss'; mode: PowerLossMode; target?: FaultTarget };

/**
 * Which broker processes a kill takes: every one (the default); a majority (on a cluster
 * of three machines' worth of nodes, nodes 1 and 2 of every role, as two machines
 * failing would take them); or one process by name, e.g. "nats-2", "bookie-1",
 * "broker-3", "zk-1". The scenario checks the form; each system checks the name against
 * what it runs (checkRun), so both refusals come before anything starts.
 */
export type FaultTarget = 'all' | 'majority' | { node: string };

/** What a run looks like before it starts: enough to refuse options that cannot fit it. */
export interface RunShape {
  producers: number;
  consumers: number;
  messageSize: number;
  /** pipeline stages, 1 but for the pipeline */
  stages: number;
  /** some settings only one broker mode can honour (a config file busbench writes, say) */
  brokers: OpenContext['brokers'];
  /** the planned fault: a power loss needs the broker's data on the power-loss layer */
  fault?: FaultKind;
  /** message keys; absent = none */
  keys?: KeyPlan;
  /** the workload's partitions; absent = 1 */
  partitions?: number;
  /** the workload's topics; absent = 1 */
  topics?: number;
  /**
   * a backlog the run builds with its consumers paused (src/scenario/backlog.ts): a system
   * whose configured limits cannot hold it refuses the run
   */
  backlog?: { messages: number; bytes: number };
}

/** Counts the broker itself reports, for cross-checking the harness's ledger. */
export interface BrokerCounts {
  /** where these numbers came from, e.g. "jetstream stream info" */
  source: string;
  /** messages the broker holds or has stored for this run */
  stored?: number;
  /** messages the broker says it delivered/acknowledged to consumers */
  delivered?: number;
  /** anything else worth showing, e.g. backlog */
  detail?: Record<string, number>;
  /** per partition (index = partition), where the broker counts per partition and the run has more than one */
  perPartition?: Array<{ stored?: number; delivered?: number }>;
  /** per topic (index = topic), where the broker counts per topic and the run has more than one */
  perTopic?: Array<{ stored?: number; delivered?: number }>;
}

/** 'lose-unsynced': every file back to its last fsynced contents; 'torn': see PowerCut. */
export type PowerLossMode = 'lose-unsynced' | 'torn';
export const POWER_LOSS_MODES: readonly PowerLossMode[] = ['lose-unsynced', 'torn'];

/** What the power-loss filesystem layer dropped at the cut. */
export interface PowerCut {
  mode: PowerLossMode;
  /** written bytes no fsync had covered, lost at the cut */
  bytesDropped: number;
  /** files that lost something */
  filesAffected: number;
  /** torn mode: the files whose last unsynced write was cut at a 4 KiB boundary */
  tornFiles: string[];
}

/** kill -9 (or a power cut) and restart on the same data, for the durability checks. */
export interface FaultInjector {
  /** names the fault exactly, e.g. "kill -9 of nats-server (page cache survives)" */
  readonly fault: string;
  /** kill -9 of `target` (default all); restart() then brings back what it took */
  kill(target?: FaultTarget): Promise<void>;
  /**
   * Present where the broker's data lies on the power-loss layer (the run asked for a
   * power-loss fault): SIGKILL of the fault's target (every broker process unless it names
   * nodes), then the layer drops what no fsync covered on them. restart() then starts
   * them on what is left.
   */
  powerLoss?(mode: PowerLossMode): Promise<PowerCut>;
  /**
   * With powerLoss: writes back everything written so far, as the kernel's periodic
   * write-back does within ~30 s on a real machine. The harness calls it as the measured
   * phase starts, so that the cut takes what the run wrote, not the files the broker
   * wrote while it started and created the run's streams a few seconds before.
   */
  settle?(): Promise<void>;
  restart(): Promise<void>;
  /**
   * Optional: why the service did not come back after the restart, in the broker's own
   * words (e.g. "service not restored: ledger 5 could not be recovered: <log line>"), or
   * undefined when its logs say nothing of the kind. Asked once, when the run is judged:
   * a count of lost messages alone would hide that the topic is gone for good.
   */
  serviceProblem?(): string | undefined;
}

/** Main-thread half of a system. */
export interface SystemAdapter<Options extends ErasedOptions = ErasedOptions, WorkerInit extends Cloneable = Cloneable> {
  readonly name: string;
  readonly description: string;
  /**
   * false for a system inside busbench (the ring buffer): nothing to start or attach to,
   * so `--brokers external` needs no --url for it.
   */
  readonly needsBroker: boolean;
  /**
   * Validates the system's section of a scenario (`raw` may be undefined) and returns it
   * with defaults filled in. Errors are `ConfigError`s naming `where` and the field.
   */
  parseOptions(raw: unknown, where: string): Options;
  /** What this system promises with these options. */
  capabilities(options: Options): Capabilities;
  /**
   * Optional: the options that switch this system's own mechanisms for a delivery
   * guarantee on or off (deduplication, double acks, transactions). The exactly-once
   * scenario applies them under the scenario's own section, so a user can still
   * override one to see what it was worth. Raw, like a scenario section: parseOptions reads them.
   */
  guaranteeOptions?(guarantee: 'exactly-once' | 'at-least-once'): Record<string, unknown>;
  /**
   * Optional: refusals of these options for a run of this shape that need no broker (a
   * message too large for the configured buffer). The harness asks while it validates the
   * scenario, so they exit 2 before anything starts, like every other ConfigError; open()
   * failing is a failed run instead.
   */
  checkRun?(options: Options, run: RunShape, where: string): void;
  /** Starts or attaches to the broker and creates what the run needs. */
  open(ctx: OpenContext<Options>): Promise<SystemSession<WorkerInit>>;
  /**
   * Optional: one broker started natively for several busbench processes to share
   * (`--processes N --brokers native`): the parent starts it, each shard attaches to its
   * URL as to an external broker, the parent stops it after. Absent: the system cannot
   * be shared so (its broker is not one process a URL reaches), and --processes needs
   * --brokers external.
   */
  startSharedBroker?(options: Options, ctx: { dir: string; log(line: string): void }): Promise<SharedBroker>;
}

/** A native broker the shards of one --processes run share (SystemAdapter.startSharedBroker). */
export interface SharedBroker {
  /** what each shard is given as --url <system>=<url> */
  url: string;
  /** what ran, for the merged result's config (version, topology, where it came from) */
  describe(): Record<string, unknown>;
  /** stops it and removes its data; idempotent */
  stop(): Promise<void>;
}

export interface SystemSession<WorkerInit extends Cloneable = Cloneable> {
  /** handed (structured-cloned) to every worker's createProducer/createConsumer */
  readonly workerInit: WorkerInit;
  /** the resolved configuration, recorded in the result file (versions, sources, settings) */
  readonly config: Record<string, unknown>;
  /** present where the harness controls the broker process */
  readonly faults?: FaultInjector;
  /**
   * The partitions the session spread messages over, where a system's own setting made
   * them (pulsar.partitions without the workload field); absent = OpenContext.partitions.
   * The harness attributes per-partition counts by it.
   */
  readonly partitions?: number;
  /** counts from the broker at the end of a run */
  brokerCounts?(): Promise<BrokerCounts>;
  /**
   * Messages the broker still holds for the last stage's consumers: not delivered yet, or
   * delivered and not acknowledged (so they will come again). The drain keeps waiting
   * while this is above 0, rather than stopping when deliveries pause (a redelivery after
   * a crash can take the broker's ack wait).
   */
  undelivered?(): Promise<number>;
  /**
   * The broker processes busbench started for this session, as they are now (a restart
   * changes a pid): their CPU time and peak memory go into the result. An empty list for
   * a system inside busbench's own process (its cost is busbench's); absent where the
   * broker is not busbench's to measure (external, compose): "not measured".
   */
  processes?(): Array<{ name: string; pid: number }>;
  /** deletes what the run created and stops brokers the harness started; idempotent */
  close(): Promise<void>;
}

/** Worker-thread half of a system. */
export interface WorkerSide<WorkerInit extends Cloneable = Cloneable> {
  createProducer(init: WorkerInit, spec: ProducerSpec, acks: AckSink): Promise<Producer>;
  createConsumer(init: WorkerInit, spec: ConsumerSpec): Promise<Consumer>;
  /**
   * Optional: a pipeline stage processor that forwards and acknowledges in one
   * transaction. Without it the harness forwards with a producer on the next stage and
   * acknowledges once that producer's acks came back (at-least-once, made exactly-once
   * by the system's deduplication of the re-sent (producer, sequence)).
   */
  createForwarder?(init: WorkerInit, spec: ConsumerSpec): Promise<Forwarder>;
}

/** Read-only view of the run's control state, cheap enough to poll in a spin loop. */
export interface RunControl {
  /** true once the harness wants every loop to wind down (end of drain, error, Ctrl-C) */
  stopping(): boolean;
}

export interface ProducerSpec {
  producerId: number;
  /**
   * The stage this producer publishes to (0 unless in a pipeline). A stage > 0 producer
   * forwards messages of every origin producer: route by `OutboundBatch.producerId`.
   */
  stage?: number;
  messageSize: number;
  maxInFlight: number;
  control: RunControl;
}

export interface ConsumerSpec {
  consumerId: number;
  /** the stage this consumer reads (0 unless in a pipeline) */
  stage?: number;
  /** consumers sharing the work, so a system can assign lanes/partitions */
  consumers: number;
  /** producers in the run, so a system can assign lanes */
  producers: number;
  messageSize: number;
  control: RunControl;
}

/**
 * A batch of stamped messages from one producer: message i is
 * bytes[i*size, (i+1)*size) and has sequence number firstSeq + i.
 * The harness reuses `bytes` after `send` returns or resolves: copy what you keep.
 */
export interface OutboundBatch {
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly count: number;
  readonly producerId: number;
  readonly firstSeq: number;
}

/**
 * Where a producer reports the fate of each message. Every sent sequence must end in
 * exactly one of these three, so the ledger can be honest about timeouts: an ack that
 * never came does not mean the message was not stored.
 *
 * A fourth answer, `duplicate`, can stand in for `acked`: an acknowledgement of another
 * kind, kept apart so that the ledger can say what it rests on: a deduplicating system (Pulsar's broker
 * deduplication, NATS's Nats-Msg-Id window) may answer a send by saying it already holds
 * it. Where deduplication is a high-water mark (Pulsar), that claim can be false: a
 * message below the mark that was never stored is answered the same way, and a loss
 * behind such an answer must be reported as exactly that, not as a broken store.
 */
export interface AckSink {
  /** [seq, seq+count) were acknowledged (stored, for durable systems) */
  acked(seq: number, count: number): void;
  /** [seq, seq+count) were definitely rejected (error reply) and will not be delivered */
  failed(seq: number, count: number, reason: string): void;
  /** [seq, seq+count) have no answer (timeout, connection lost): they may or may not be stored */
  unknown(seq: number, count: number, reason: string): void;
  /**
   * The system says it already holds [seq, seq+count) from an earlier send; it did not
   * store them now. Systems without deduplication never call it.
   */
  duplicate(seq: number, count: number): void;
}

export interface Producer {
  /**
   * Hands a batch to the system. Returns once the system has taken the bytes (not when
   * they are acknowledged: acks go to the AckSink). A synchronous system may block here
   * for space, polling `control.stopping()` so that it never blocks a wind-down.
   */
  send(batch: OutboundBatch): void | Promise<void>;
  /** Waits until every sent message has reached the AckSink, at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Messages delivered to a consumer. Message i is buffer(i)[offset(i), offset(i)+length(i)):
 * views, not copies, valid until `ack` or the next `receive`.
 */
export interface DeliveryBatch {
  readonly count: number;
  buffer(i: number): Uint8Array;
  offset(i: number): number;
  length(i: number): number;
  /**
   * Optional: the ordering domain message i came through (a Pulsar partition), where a
   * producer's messages are in order only within one. The ledger then checks order per
   * (producer, lane); without it, per producer.
   */
  lane?(i: number): number;
}

export interface Consumer {
  /** Up to `max` messages, waiting at most `maxWaitMs`; an empty batch on timeout. */
  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch>;
  /** Acknowledges (or commits the offset past) every message of the batch, after the handler ran. */
  ack(batch: DeliveryBatch): void | Promise<void>;
  /**
   * Optional: entries the system delivered that this consumer could not hand on and threw
   * away (a bad checksum, an undecodable batch), with why; counted since it was created.
   * A dropped entry is a loss the consumer caused, so the run reports it rather than let
   * it pass for the broker's.
   */
  discarded?(): DiscardedEntries;
  /**
   * Optional: the harness stops calling receive() for a while (a backlog build) and resumes
   * later. A system whose client holds messages fetched ahead of receive() and whose broker
   * redelivers what stays unacknowledged too long (NATS's ack_wait) keeps them from being
   * redelivered until resume() (NATS reports them in progress), in their order. Systems
   * that fetch only as receive() takes (the ring, Pulsar's flow permits) need neither.
   */
  pause?(): void | Promise<void>;
  resume?(): void | Promise<void>;
  /**
   * Stops consuming. Never acknowledges what was delivered but not acked: the exactly-once
   * scenario closes a consumer between processing and acknowledging to act out a crash,
   * and those messages must be delivered again to the next consumer of the stage.
   */
  close(): Promise<void>;
}

/** What a consumer threw away undelivered (Consumer.discarded). */
export interface DiscardedEntries {
  entries: number;
  /** a few distinct reasons, e.g. "checksum mismatch" */
  reasons: string[];
}

/** Consume-process-produce between two pipeline stages (see WorkerSide.createForwarder). */
export interface Forwarder {
  receive(max: number, maxWaitMs: number): DeliveryBatch | Promise<DeliveryBatch>;
  /**
   * Publishes every message of the batch, byte for byte, to the next stage and
   * acknowledges it on this one, atomically (one transaction). Resolves once committed;
   * rejects if the transaction was aborted (then the batch will be delivered again).
   */
  forward(batch: DeliveryBatch): Promise<void>;
  /**
   * The fault: does what forward() does up to publishing the batch downstream, then stops
   * as a stage that crashed between processing and acknowledging would: no
   * acknowledgement, no commit (a transaction is left open for its timeout). The harness
   * closes the forwarder next.
   */
  crashAfterProducing(batch: DeliveryBatch): Promise<void>;
  /** Optional, as Consumer.discarded: what its consumer threw away undelivered (undefined: it cannot tell). */
  discarded?(): DiscardedEntries | undefined;
  /** Like Consumer.close: whatever was received but not forwarded is delivered again. */
  close(): Promise<void>;
}

export const EMPTY_BATCH: DeliveryBatch = {
  count: 0,
  buffer: () => new Uint8Array(0),
  offset: () => 0,
  length: () => 0,
};
