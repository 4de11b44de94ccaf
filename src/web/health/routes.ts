/** GET /health: liveness for load balancers and Docker. */
import { Router, type Request, type Response } from 'express';
import type { AnalysisQueue } from '../../analysis/queue.ts';

export function healthRoutes(deps: { version: string; queue: AnalysisQueue }): Router {
  const router = Router();
  router.get('/health', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({
      status: 'ok',
      uptime: Math.round(process.uptime() * 10) / 10,
      version: deps.version,
      queue: { running: deps.queue.running, waiting: deps.queue.waiting },
    });
  });
  return router;
}
