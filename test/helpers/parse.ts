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

/** `got` is `want`: the same table, or the same error at the same place. */
export function assertSame(got: Outcome, want: Outcome, what: string): void {
  if ('error' in want) {
    assert.ok('error' in got, `${what}: expected the error ${want.error.message}`);
    assert.deepEqual(
      { message: got.error.message, line: got.error.line, column: got.error.column, columnName: got.error.columnName },
      { message: want.error.message, line: want.error.line, column: want.error.column, columnName: want.error.columnName },
      what,
    );
  } else {
    assert.ok('table' in got, `${what}: unexpected error ${'error' in got ? got.error.message : ''}`);
    assert.deepEqual(got.table, want.table, what);
  }
}
