/**
 * Test-only tools: produce through Pulsar's REST producer (no wire client needed) and
 * look at what a broker process left behind, straight from /proc.
 */
import fs from 'node:fs';
import { parseTopic } from '../../src/brokers/pulsar/admin.ts';

/**
 * Publishes `payloads` with POST /topics/persistent/..., acknowledged once stored.
 * Pulsar 4.0.8's REST producer has no producer name, which the deduplication code cannot
 * handle (NullPointerException): use it only in a namespace with deduplication off.
 */
export async function produceViaRest(adminUrl: string, topic: string, payloads: string[]): Promise<string[]> {
  const t = parseTopic(topic);
  const res = await fetch(`${adminUrl}/topics/${t.domain}/${t.tenant}/${t.namespace}/${t.local}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: payloads.map((payload) => ({ payload })) }),
  });
  const body = (await res.json()) as { messagePublishResults?: { messageId: string; errorCode: number; errorMsg?: string }[] };
  const results = body.messagePublishResults ?? [];
  const failed = results.find((r) => r.errorCode !== 0);
  if (!res.ok || failed || results.length !== payloads.length) {
    throw new Error(`REST produce to ${topic}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  return results.map((r) => r.messageId);
}

/** Pids of all processes in a process group (field 5 of /proc/<pid>/stat). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may hold spaces; fields after it start past its ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      /* exited while we looked */
    }
  }
  return members;
}

export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Listening TCP sockets of a process as "address:port" (IPv4 and IPv6 tables). */
export function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1] ?? '', cols[3], cols[9] ?? ''];
      if (state !== '0A' || !inodes.has(inode)) continue; // 0A = LISTEN
      const [hexAddr = '', hexPort = ''] = local.split(':');
      out.push(`${decodeAddress(hexAddr)}:${parseInt(hexPort, 16)}`);
    }
  }
  return out.sort();
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    // IPv4, little-endian bytes
    return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  }
  if (/^0+$/.test(hex)) return '::';
  if (/^0{16}FFFF0000[0-9A-F]{8}$/i.test(hex)) return `::ffff:${decodeAddress(hex.slice(24))}`;
  return hex;
}
