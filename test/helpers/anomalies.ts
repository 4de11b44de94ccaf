/** Every anomaly an analysis stored (anomalies.bin), most severe first, as the API gives them. */
import path from 'node:path';
import type { AnomalyRow } from '../../src/analysis/types.ts';
import { AnomalyRowsFile } from '../../src/reports/index.ts';

export async function readAnomalies(folder: string): Promise<AnomalyRow[]> {
  const file = await AnomalyRowsFile.read(path.join(folder, 'anomalies.bin'));
  return file.rows(0, file.count);
}
