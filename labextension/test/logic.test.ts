import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditQuery, EMPTY_FILTERS, graphSignature, matchNodes, nodeClass } from '../src/filters';
import { initialValue, validateForm } from '../src/form';
import { isTracked, toggleTrack, TRACK_MAGIC } from '../src/track';
import { LineageNode, ParamSpec } from '../src/types';

const spec = (name: string, type: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({
  name,
  type,
  required: false,
  default: null,
  description: '',
  ...extra
});

test('track toggles the magic on and off, keeping the code', () => {
  const code = 'df = pd.read_csv("x.csv")';
  const on = toggleTrack(code);
  assert.equal(on, `${TRACK_MAGIC}\n${code}`);
  assert.ok(isTracked(on));
  assert.equal(toggleTrack(on), code);
  assert.ok(!isTracked(code));
});

test('track removes a magic with arguments', () => {
  const src = '%%cmlops_track "load data" --reason audit\nx = 1';
  assert.ok(isTracked(src));
  assert.equal(toggleTrack(src), 'x = 1');
});

test('a similarly named magic is not the track magic', () => {
  assert.ok(!isTracked('%%cmlops_tracker\nx'));
  assert.equal(toggleTrack(''), `${TRACK_MAGIC}\n`);
});

test('form converts values by declared type', () => {
  const specs = [
    spec('n', 'int', { required: true }),
    spec('alpha', 'float'),
    spec('flag', 'bool'),
    spec('cols', 'list'),
    spec('data', 'path'),
    spec('name', 'str')
  ];
  const { values, errors } = validateForm(specs, {
    n: '12',
    alpha: '0.05',
    flag: true,
    cols: 'a, b,,c',
    data: 'data/x.csv',
    name: ' x '
  });
  assert.deepEqual(errors, {});
  assert.deepEqual(values, {
    n: 12,
    alpha: 0.05,
    flag: true,
    cols: ['a', 'b', 'c'],
    data: 'data/x.csv',
    name: 'x'
  });
});

test('form reports each bad field', () => {
  const specs = [
    spec('n', 'int', { required: true }),
    spec('m', 'int'),
    spec('alpha', 'float'),
    spec('data', 'path'),
    spec('up', 'path'),
    spec('arm', 'str', { choices: ['A', 'B'] })
  ];
  const { errors } = validateForm(specs, {
    n: '',
    m: '1.5',
    alpha: '1e',
    data: '/etc/passwd',
    up: '../secret.csv',
    arm: 'C'
  });
  assert.deepEqual(Object.keys(errors).sort(), ['alpha', 'arm', 'data', 'm', 'n', 'up']);
  assert.equal(errors.n, 'required');
});

test('dataset fields take a relative file or folder, or a table name', () => {
  const specs = [spec('a', 'dataset'), spec('b', 'dataset'), spec('c', 'dataset'), spec('d', 'dataset')];
  const { values, errors } = validateForm(specs, {
    a: 'data/claims_parquet',
    b: 'table:claims_2024',
    c: '/mnt/claims',
    d: 'data/../../secret'
  });
  assert.deepEqual(values, { a: 'data/claims_parquet', b: 'table:claims_2024' });
  assert.deepEqual(Object.keys(errors).sort(), ['c', 'd']);
});

test('form defaults come from the schema', () => {
  assert.equal(initialValue(spec('k', 'int', { default: 5 })), '5');
  assert.equal(initialValue(spec('b', 'bool', { default: true })), true);
  assert.equal(initialValue(spec('l', 'list', { default: ['x', 'y'] })), 'x, y');
  const { values } = validateForm([spec('k', 'int', { default: 5 })], {});
  assert.deepEqual(values, { k: 5 });
});

test('audit query drops empty filters and makes "until" inclusive', () => {
  const q = auditQuery({ ...EMPTY_FILTERS, actor: ' ana ', until: '2026-11-22' }, 50, 100);
  assert.deepEqual(q, {
    limit: 50,
    offset: 100,
    actor: 'ana',
    until: '2026-11-22T23:59:59.999999+00:00'
  });
});

const node = (id: string, type: 'entity' | 'activity', kind: string, extra = {}): LineageNode => ({
  id,
  type,
  kind,
  label: id,
  who: '',
  when: '',
  ...extra
});

test('node classes and search', () => {
  assert.equal(nodeClass(node('a', 'activity', 'cell')), 'cell');
  assert.equal(nodeClass(node('a', 'activity', 'report-run')), 'report-run');
  assert.equal(nodeClass(node('a', 'entity', 'model')), 'model');
  assert.equal(nodeClass(node('a', 'entity', 'dataset')), 'dataset');
  assert.equal(nodeClass(node('a', 'entity', 'weird')), 'entity');
  const data = {
    nodes: [
      node('x', 'entity', 'dataset', { columns: [{ name: 'AGE_YRS', dtype: 'int64' }] }),
      node('y', 'entity', 'model')
    ],
    edges: []
  };
  assert.deepEqual([...matchNodes(data, 'age_')], ['x']);
  assert.equal(matchNodes(data, '  ').size, 0);
  assert.equal(graphSignature(data), graphSignature({ ...data, nodes: [...data.nodes].reverse() }));
});

test('report form helpers: verdict badges, picker crumbs, upload bytes', async () => {
  const { bytesToBase64, crumbs, verdictClass } = await import('../src/form');
  assert.equal(verdictClass('PASS'), 'cmlops-verdict-pass');
  assert.equal(verdictClass('FAIL'), 'cmlops-verdict-fail');
  assert.equal(verdictClass('NOT EVALUATED'), 'cmlops-verdict-ne');
  for (const other of ['NONE', '', 'pass', undefined, null]) {
    assert.equal(verdictClass(other), null);
  }
  assert.deepEqual(crumbs(''), [{ label: 'Jupyter root', path: '' }]);
  assert.deepEqual(crumbs('study/plans'), [
    { label: 'Jupyter root', path: '' },
    { label: 'study', path: 'study' },
    { label: 'plans', path: 'study/plans' }
  ]);
  // exactly the bytes, whatever they are (not text): checked against Node's encoder
  const bytes = new Uint8Array(70000).map((_, i) => (i * 7919) % 256);
  assert.equal(bytesToBase64(bytes), Buffer.from(bytes).toString('base64'));
});
