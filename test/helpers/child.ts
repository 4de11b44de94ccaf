/** Runs a TypeScript ES module in a child process (tsx), to check that it exits by itself. */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let fileNo = 0;

/**
 * `code`'s exit code, or 'hung' after `timeoutMs`. The module is written into `dir` (the caller's
 * temp folder), not passed with `-e`: the workers' tsx bootstrap is CommonJS, and
 * `--input-type=module` would reach them.
 */
export async function runModule(dir: string, code: string, timeoutMs = 30_000): Promise<number | 'hung'> {
  const script = join(dir, `child${fileNo++}.mts`);
  await writeFile(script, code);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
}
