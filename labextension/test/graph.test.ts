import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignLayers, crossings, layout } from '../src/graph';

test('datasets, cells, models and reports land in successive layers', () => {
  const edges = [
    { source: 'csv', target: 'cell' },
    { source: 'cell', target: 'model' },
    { source: 'model', target: 'report-run' },
    { source: 'report-run', target: 'report' }
  ];
  const layers = assignLayers(['report', 'model', 'cell', 'csv', 'report-run'], edges);
  assert.deepEqual(
    ['csv', 'cell', 'model', 'report-run', 'report'].map(id => layers.get(id)),
    [0, 1, 2, 3, 4]
  );
});

test('longest path decides the layer', () => {
  const edges = [
    { source: 'a', target: 'b' },
    { source: 'b', target: 'c' },
    { source: 'a', target: 'c' }
  ];
  const layers = assignLayers(['a', 'b', 'c'], edges);
  assert.equal(layers.get('c'), 2);
});

test('a cycle does not hang and every node gets a layer', () => {
  const edges = [
    { source: 'a', target: 'b' },
    { source: 'b', target: 'c' },
    { source: 'c', target: 'a' }
  ];
  const layers = assignLayers(['a', 'b', 'c'], edges);
  assert.equal(layers.size, 3);
  assert.deepEqual(new Set(layers.values()), new Set([0, 1, 2]));
});

test('edges to unknown nodes and self loops are ignored', () => {
  const placed = layout(['a'], [{ source: 'a', target: 'zzz' }, { source: 'a', target: 'a' }]);
  assert.equal(placed.nodes.size, 1);
  assert.equal(placed.nodes.get('a')!.x, 0);
});

test('barycentre ordering removes avoidable crossings', () => {
  // Two independent chains given in crossing order.
  const ids = ['a1', 'a2', 'b2', 'b1'];
  const edges = [
    { source: 'a1', target: 'b1' },
    { source: 'a2', target: 'b2' }
  ];
  const result = layout(ids, edges);
  assert.equal(crossings(result.layers, edges), 0);
  assert.equal(crossings([['a1', 'a2'], ['b2', 'b1']], edges), 1);
});

test('positions go left to right by layer and do not overlap in a layer', () => {
  const ids = ['d1', 'd2', 'c', 'm'];
  const edges = [
    { source: 'd1', target: 'c' },
    { source: 'd2', target: 'c' },
    { source: 'c', target: 'm' }
  ];
  const { nodes, width, height } = layout(ids, edges, { nodeWidth: 100, layerGap: 50 });
  assert.ok(nodes.get('d1')!.x < nodes.get('c')!.x);
  assert.ok(nodes.get('c')!.x < nodes.get('m')!.x);
  assert.notEqual(nodes.get('d1')!.y, nodes.get('d2')!.y);
  assert.equal(width, 3 * 100 + 2 * 50);
  assert.ok(height > 0);
});

test('1,000 nodes lay out (layered, every node placed once)', () => {
  const ids: string[] = [];
  const edges: { source: string; target: string }[] = [];
  for (let i = 0; i < 250; i++) {
    ids.push(`d${i}`, `c${i}`, `m${i}`, `r${i}`);
    edges.push({ source: `d${i}`, target: `c${i}` }, { source: `c${i}`, target: `m${i}` },
      { source: `m${i}`, target: `r${i}` });
    if (i > 0) {
      edges.push({ source: `m${i - 1}`, target: `c${i}` });
    }
  }
  const result = layout(ids, edges);
  assert.equal(result.nodes.size, 1000);
  const seen = new Set<string>();
  for (const [id, p] of result.nodes) {
    const key = `${p.x},${p.y}`;
    assert.ok(!seen.has(key), `overlap at ${id}`);
    seen.add(key);
  }
});

test('empty graph', () => {
  const result = layout([], []);
  assert.equal(result.nodes.size, 0);
  assert.equal(result.width, 0);
});
