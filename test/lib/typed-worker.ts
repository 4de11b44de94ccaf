/** A worker module for test/lib/worker.test.ts: TypeScript syntax, so it loads only if tsx is registered in its thread. */
import { parentPort } from 'node:worker_threads';

const answer: number = 42;
parentPort?.postMessage(`tsx: ${answer}`);
