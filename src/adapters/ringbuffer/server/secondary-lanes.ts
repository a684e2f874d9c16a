/**
 * The secondary's lanes and journals as the primary's stream writes them (follower.ts):
 * each lane starts empty at the primary's committed offset, takes every append at the
 * offset the primary gave it, and follows the primary's commits as far as it has stored
 * the messages they cover (a commit can arrive before the append it covers is synced).
 */
import type { ReplicaStore } from './follower.ts';
import { LaneJournal } from './journal.ts';
import type { LaneLog } from './lane-log.ts';
import type { ReplAppend } from './replication-frames.ts';
import { BusbenchError } from '../../../core/errors.ts';

export class SecondaryLanes implements ReplicaStore {
  /** per lane, the highest commit the primary passed on */
  private readonly wanted: number[];

  constructor(
    private readonly lanes: readonly LaneLog[],
    /** the server's journals (undefined: memory only); reset replaces a lane's */
    private readonly journals: LaneJournal[] | undefined,
    private readonly dataDir: string,
    private readonly onFatal: (err: Error) => void,
    /** runs `fn` and has the journal flushed once this event-loop turn is over (server.ts) */
    private readonly inGroupCommit: (journal: LaneJournal, fn: () => void) => void,
  ) {
    this.wanted = lanes.map(() => 0);
  }

  reset(l: number, committed: number, lastSeq: number): void {
    this.lane(l).restore(committed, committed, lastSeq, []);
    this.wanted[l] = committed;
    if (!this.journals) return;
    const journal = new LaneJournal(this.dataDir, l, [], committed, this.onFatal);
    this.journals[l] = journal;
    // An empty record at `committed` carries the lane's offset and last sequence into a
    // journal that starts there, should this replica ever restart on its own data.
    this.inGroupCommit(journal, () => journal.append(committed, lastSeq + 1, 0, 0, Buffer.alloc(0), () => undefined));
  }

  append(a: ReplAppend, done: () => void): void {
    const lane = this.lane(a.lane);
    if (a.firstOffset !== lane.appended) throw new BusbenchError('BROKER', `replication: APPEND at offset ${a.firstOffset} of lane ${a.lane}, which holds ${lane.appended}`);
    lane.append(a.firstSeq, a.count, a.size, a.payload);
    const end = a.firstOffset + a.count;
    const stored = (): void => {
      lane.makeVisible(end);
      done();
      this.applyCommit(a.lane);
    };
    const journal = this.journals?.[a.lane];
    if (journal) this.inGroupCommit(journal, () => journal.append(a.firstOffset, a.firstSeq, a.count, a.size, a.payload, stored));
    else stored();
  }

  commit(l: number, offset: number): void {
    this.lane(l);
    if (offset > this.wanted[l]!) this.wanted[l] = offset;
    this.applyCommit(l);
  }

  whenAllDurable(done: () => void): void {
    const journals = this.journals ?? [];
    let left = journals.length;
    if (left === 0) return done();
    for (const j of journals) this.inGroupCommit(j, () => j.whenDurable(() => --left === 0 && done()));
  }

  private lane(l: number): LaneLog {
    const lane = this.lanes[l];
    if (!lane) throw new BusbenchError('BROKER', `replication: no lane ${l} (this server has ${this.lanes.length})`);
    return lane;
  }

  private applyCommit(l: number): void {
    const lane = this.lanes[l]!;
    if (this.wanted[l]! <= lane.committed) return;
    const before = lane.committed;
    const committed = lane.commit(this.wanted[l]!);
    const journal = this.journals?.[l];
    if (journal && committed !== before) {
      journal.commit(committed);
      this.inGroupCommit(journal, () => undefined);
    }
  }
}
