/** Asks a secondary ring server, on its replication port, whether it has caught up with a primary. */
import net from 'node:net';
import { FrameReader } from './frames.ts';
import { encodeStatus, REPL } from '../server/replication-frames.ts';

/** true: caught up; false: not yet, or no answer within `timeoutMs` (not listening, say). */
export function replicaCaughtUp(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (v: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const reader = new FrameReader(64, (body) => finish(body[0] === REPL.statusReply && body[1] === 1));
    socket.on('connect', () => socket.write(encodeStatus()));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch {
        finish(false);
      }
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
