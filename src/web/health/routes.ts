/** GET /health: liveness for load balancers and Docker. */
import { Router, type Request, type Response } from 'express';
import type { AnalysisQueue } from '../../analysis/queue.ts';

/** Whether the worker threads started at boot are ready (warmed); a process without them leaves it out. */
export interface WorkerReadiness {
  detector: boolean;
  parser: boolean;
}

export function healthRoutes(deps: { version: string; queue: AnalysisQueue; workers?: Readonly<WorkerReadiness> }): Router {
  const router = Router();
  router.get('/health', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({
      status: 'ok',
      uptime: Math.round(process.uptime() * 10) / 10,
      version: deps.version,
      queue: { running: deps.queue.running, waiting: deps.queue.waiting },
      // Liveness does not wait for these: an analysis before they are warm runs, only slower.
      ...(deps.workers ? { workers: { detector: deps.workers.detector ? 'ready' : 'warming', parser: deps.workers.parser ? 'ready' : 'warming' } } : {}),
    });
  });
  return router;
}
