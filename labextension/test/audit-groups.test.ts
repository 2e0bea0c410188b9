import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockHeading, groupRecords } from '../src/audit-groups';
import { AuditRecord } from '../src/types';

const record = (seq: number, group = ''): AuditRecord => ({
  seq,
  ts: '2026-11-30T09:15:00+00:00',
  actor: 'ana',
  action: 'lineage.used',
  object_type: 'relation',
  object_id: `id-${seq}`,
  payload: {},
  reason: '',
  prev_hash: '',
  hash: '',
  label: `record ${seq}`,
  group
});

test('audit records group by activity, in page order, loose records alone', () => {
  const blocks = groupRecords(
    [record(9, 'a'), record(8, 'a'), record(7), record(6), record(5, 'b'), record(4, 'a')],
    { a: { label: 'cell [4] fit', kind: 'cell', notebook: 'study/fit.ipynb', status: 'ok',
      started: '2026-11-30T09:15:00.123+00:00' } }
  );
  assert.deepEqual(blocks.map(b => [b.key, b.records.map(r => r.seq)]),
    [['a', [9, 8]], ['', [7]], ['', [6]], ['b', [5]], ['a', [4]]]);
  assert.deepEqual(blockHeading(blocks[0]),
    { title: 'cell [4] fit', detail: 'fit.ipynb · 2026-11-30 09:15:00 · ok · 2 records' });
  // a group the page did not describe still reads as an activity, with its count
  assert.deepEqual(blockHeading(blocks[3]), { title: 'activity b', detail: '1 record' });
});
