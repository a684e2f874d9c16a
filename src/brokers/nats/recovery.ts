/**
 * A JetStream stream the restarted server could not bring back, found in its log. After
 * a power loss a stream whose metadata file lost its unsynced contents no longer loads:
 * the server starts, /healthz keeps failing, and every publish to the stream's subject
 * goes unanswered. A count of lost messages alone would hide that the stream is gone, so
 * the server's own line is reported.
 *
 * The messages, as nats-server 2.10–2.15 writes them:
 *   `Stream metafile "<store>/$G/streams/<name>/meta.inf": checksums do not match "" vs "f316…"`
 *   `Error unmarshalling stream metafile "<store>/$G/streams/<name>/meta.inf": …`
 *   `Error recreating stream "<name>": …`
 *   `Healthcheck failed: "JetStream stream '$G > <name>' could not be recovered"`
 */

/** Most conclusive first: the cause (metadata unreadable) before the symptom (health check). */
const PATTERNS: readonly RegExp[] = [
  /Stream metafile "[^"]*\/streams\/([^/"]+)\/meta\.inf": checksums do not match/,
  /Error unmarshalling stream metafile "[^"]*\/streams\/([^/"]+)\/meta\.inf"/,
  /Error recreating stream "([^"]+)"/,
  /JetStream stream '[^']* > ([^']+)' could not be recovered/,
];

const LINE_CHARS = 300;

/** "service not restored: JetStream stream <name> could not be recovered (<the line>)", or undefined. */
export function streamNotRestored(log: string): string | undefined {
  const lines = log.split('\n');
  for (const pattern of PATTERNS) {
    for (const raw of lines) {
      const name = pattern.exec(raw)?.[1];
      if (name === undefined) continue;
      const line = raw.trim();
      return `service not restored: JetStream stream ${name} could not be recovered (${line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line})`;
    }
  }
  return undefined;
}
