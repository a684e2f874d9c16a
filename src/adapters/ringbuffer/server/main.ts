/**
 * Entry point of the ring server process (started by child/server-process.ts):
 *   node --import <tsx> server/main.ts '<ServerConfig as JSON>'
 * It logs to stdout (the harness sends that to a log file) and runs until SIGTERM, a
 * kill -9, or the harness that started it is gone.
 */
import { parseServerConfig } from './config.ts';
import { RingServer } from './server.ts';

const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function die(what: string, err: unknown): never {
  log(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}

try {
  const config = parseServerConfig(process.argv[2]);
  const server = new RingServer(config, log, (err) => die('fatal (a journal write, or the replication stream, failed): exiting so that nothing more is acknowledged', err));
  const port = await server.listen();
  const role = config.replica ? (config.replica.role === 'primary' ? ' as the primary' : ' for its primary (secondary)') : '';
  log(`ring server pid ${process.pid} listening${role} on ${config.host}:${port}: ${config.lanes} lanes of ${config.capacity} bytes, journal ${config.journal}, dedup ${config.dedup ? 'on' : 'off'}${config.journal === 'fsync' ? `, data ${config.dataDir}` : ''}`);
  process.on('SIGTERM', () => {
    log('SIGTERM: closing');
    server.close();
    process.exit(0);
  });
  // Started detached (its own process group), so nothing else stops it if the harness
  // dies without cleaning up; the orphan reaper of the next run is the second line.
  setInterval(() => {
    if (process.ppid !== config.parentPid) {
      log(`harness (pid ${config.parentPid}) is gone: exiting`);
      process.exit(0);
    }
  }, 500);
} catch (err) {
  die('ring server failed to start', err);
}
