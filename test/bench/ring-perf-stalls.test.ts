import { describe, expect, it } from 'vitest';
import { BETWEEN, CONSUMER, createTailBuffers, INSIDE, PRODUCER, stallLines, stallLog, summarizeStalls } from '../../bench/ring-perf-probe.ts';

const MS = 1e6;
// a window of 2 s from t = 10 s, intervals of 1 s from the window's start
const START = 10_000 * MS;
const END = START + 2000 * MS;

describe('ring-perf stall log', () => {
  it('keeps stalls of 1 ms or more inside the window, by thread and place', () => {
    const tail = createTailBuffers();
    const consumer = stallLog(tail, CONSUMER);
    const producer = stallLog(tail, PRODUCER);
    consumer.note(START + 5 * MS, START + 9 * MS, INSIDE, START, END); // 4 ms, 5 ms after the window's start
    consumer.note(START + 100 * MS, START + 100.5 * MS, INSIDE, START, END); // too short
    consumer.note(START - 2 * MS, START + 2 * MS, BETWEEN, START, END); // begun before the window
    consumer.note(END - 1 * MS, END + 1 * MS, BETWEEN, START, END); // ends after it
    consumer.note(START + 500 * MS, START + 502 * MS, BETWEEN, START, END); // 2 ms, mid-interval
    producer.note(START + 1010 * MS, START + 1016 * MS, INSIDE, START, END); // 6 ms, 10 ms after a boundary
    producer.note(START + 1500 * MS, START + 1501 * MS, BETWEEN, 0, 0); // no window yet
    const s = summarizeStalls(tail, 2000 * MS, 1000 * MS);
    expect(s.consumer.inside).toEqual({ msPerSec: 2, count: 1, longestMs: 4 });
    expect(s.consumer.between).toEqual({ msPerSec: 1, count: 1, longestMs: 2 });
    expect(s.producer.inside).toEqual({ msPerSec: 3, count: 1, longestMs: 6 });
    expect(s.producer.between).toEqual({ msPerSec: 0, count: 0, longestMs: 0 });
    // the 4 ms (5 ms after the window's start, a boundary) and the 6 ms (10 ms after one)
    expect(s.nearBoundaryMsPerSec).toBe(5);
    expect(s.totalMsPerSec).toBe(6);
    expect(stallLines(s).join('\n')).toMatch(/consumer inside receive \(no data seen\) 2\.0 ms\/s \(1, longest 4\.0 ms\).*\n.*: 5\.0 of 6\.0 ms\/s/);
  });

  it('counts past its fixed capacity without writing beyond it', () => {
    const tail = createTailBuffers();
    const log = stallLog(tail, PRODUCER);
    for (let i = 0; i < 5000; i++) log.note(START + i * 0.3 * MS, START + (i * 0.3 + 0.25) * MS + MS, BETWEEN, START, END);
    const s = summarizeStalls(tail, 2000 * MS, 1000 * MS);
    // the figures cover the 4,096 kept; the consumer's log, after the producer's, is untouched
    expect(s.producer.between.count).toBe(4096);
    expect(s.consumer.inside.count + s.consumer.between.count).toBe(0);
  });
});
