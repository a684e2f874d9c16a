/**
 * npx tsx bench/setup.ts — installs the brokers busbench runs natively (cached under
 * $BUSBENCH_CACHE or ~/.cache/busbench). CI runs this before the tests.
 */
const log = (line: string): void => console.log(`setup: ${line}`);

async function main(): Promise<void> {
  log('nothing to install yet');
}

main().catch((err: unknown) => {
  console.error(`setup: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
