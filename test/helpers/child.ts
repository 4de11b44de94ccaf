/** Runs TypeScript-aware ES module code in a child process (tsx), to check how it exits. */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let fileNo = 0;

/** `code`, written as a module file into `dir` (the caller's temp folder): its exit code, or 'hung' after `timeoutMs`. */
export async function runModule(dir: string, code: string, timeoutMs = 30_000): Promise<number | 'hung'> {
  const script = join(dir, `child${fileNo++}.mts`);
  await writeFile(script, code);
  return runNode(['--import', 'tsx', script], timeoutMs);
}

/**
 * `code` given to `node --input-type=module -e`: its exit code, or 'hung' after `timeoutMs`. Worker
 * threads inherit the parent's options, --input-type included, which is what this is for.
 */
export function runEvalModule(code: string, timeoutMs = 30_000): Promise<number | 'hung'> {
  return runNode(['--import', 'tsx', '--input-type=module', '-e', code], timeoutMs);
}

function runNode(args: string[], timeoutMs: number): Promise<number | 'hung'> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
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
