/** Asks the ring server for its lane counters over a short-lived connection. */
import net from 'node:net';
import { FrameReader } from './frames.ts';
import { decodeStatsReply, encodeStats, FRAME, type LaneStats } from './protocol.ts';
import { BusbenchError } from '../../../core/errors.ts';

export function fetchLaneStats(host: string, port: number, timeoutMs = 5_000): Promise<LaneStats[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => finish(new BusbenchError('ADAPTER', `no answer from the ring server on ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, lanes?: LaneStats[]): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(lanes!);
    };
    const reader = new FrameReader(1 << 24, (body) => {
      if (body[0] === FRAME.statsReply) finish(undefined, decodeStatsReply(body).lanes);
      else finish(new BusbenchError('ADAPTER', `unexpected frame type ${body[0]} from the ring server`));
    });
    socket.on('connect', () => socket.write(encodeStats(1)));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new BusbenchError('ADAPTER', `the ring server on ${host}:${port} closed the connection`)));
  });
}
