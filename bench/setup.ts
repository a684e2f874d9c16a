/**
 * npx tsx bench/setup.ts — installs the brokers busbench runs natively, cached under
 * $BUSBENCH_CACHE (default ~/.cache/busbench). Idempotent: a warm cache costs nothing.
 * CI runs this before the tests.
 */
import { ensureNatsServer } from '../src/brokers/nats/install.ts';
import { ensurePowerFs } from '../src/brokers/powerfs/install.ts';
import { ensurePulsar } from '../src/brokers/pulsar/install.ts';

const log = (line: string): void => console.log(`setup: ${line}`);

async function main(): Promise<void> {
  const started = Date.now();
  const nats = await ensureNatsServer(log);
  log(`nats-server ${nats.version} at ${nats.path} (${nats.source})`);
  const pulsar = await ensurePulsar(log);
  log(`pulsar ${pulsar.version} at ${pulsar.home} (java ${pulsar.javaHome})`);
  const powerfs = await ensurePowerFs(log);
  log(`powerfs ${powerfs.version} at ${powerfs.path} (${powerfs.source})`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(`setup: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
