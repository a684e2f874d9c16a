/**
 * Cuts a TCP byte stream into frames (protocol.ts). A frame inside one chunk is handed
 * over as a view of it, without a copy; one spread over several chunks is gathered once
 * it is complete, so a large frame costs one copy rather than one per chunk.
 */
import { BusbenchError } from '../../../core/errors.ts';

export class FrameReader {
  private parts: Buffer[] = [];
  private have = 0;

  constructor(
    /** larger bodies are refused: a corrupt length would otherwise wait for gigabytes */
    private readonly maxBody: number,
    /** `body` starts at the type byte; it stays valid (nothing here reuses it) */
    private readonly onFrame: (body: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.parts.push(chunk);
    this.have += chunk.length;
    while (this.have >= 4) {
      const len = this.peekLength();
      if (len < 1 || len > this.maxBody) throw new BusbenchError('ADAPTER', `frame of ${len} bytes (at most ${this.maxBody}): not this protocol, or corrupt`);
      if (this.have < 4 + len) return;
      this.onFrame(this.take(4 + len).subarray(4));
    }
  }

  private peekLength(): number {
    const first = this.parts[0]!;
    if (first.length >= 4) return first.readUInt32LE(0);
    return this.gather(4).readUInt32LE(0);
  }

  /** Makes the first part at least `n` bytes long (n <= have). */
  private gather(n: number): Buffer {
    if (this.parts[0]!.length < n) {
      const whole = Buffer.concat(this.parts, this.have);
      this.parts = [whole];
    }
    return this.parts[0]!;
  }

  private take(n: number): Buffer {
    const first = this.gather(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.parts.shift();
    else this.parts[0] = first.subarray(n);
    this.have -= n;
    return out;
  }
}
