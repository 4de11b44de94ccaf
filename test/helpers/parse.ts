/** What parsing a CSV gave: the table, or the CsvFormatError it threw (anything else fails the test). */
import assert from 'node:assert/strict';
import { CsvFormatError, type FlowTable } from '../../src/ingest/index.ts';

export type Outcome = { table: FlowTable } | { error: CsvFormatError };

export async function outcome(run: () => Promise<FlowTable>): Promise<Outcome> {
  try {
    return { table: await run() };
  } catch (err) {
    assert.ok(err instanceof CsvFormatError, `expected CsvFormatError, got ${String(err)}`);
    return { error: err };
  }
}
