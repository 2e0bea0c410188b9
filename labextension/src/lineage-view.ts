/**
 * The Lineage panel: a layered SVG graph (datasets → cells → models → reports),
 * zoom with the wheel or +/- buttons, pan by dragging, click or Enter on a node
 * for its details. The whole graph is one <g> under a transform, so zooming and
 * panning 1,000 nodes touch one attribute.
 */
import { Widget } from '@lumino/widgets';
import { requestAPI, ApiError } from './api';
import { LatestOnly } from './latest';
import { clear, errorBanner, h, svg } from './dom';
import { graphSignature, matchNodes, nodeClass } from './filters';
import { DEFAULT_OPTIONS, layout } from './graph';
import { LineageData, LineageNode } from './types';

const H = DEFAULT_OPTIONS.nodeHeight;
/** Below this canvas width nodes get narrower, so a fitted graph keeps readable labels. */
const COMPACT_BELOW = 380;

export class LineagePanel extends Widget {
  private readonly latest = new LatestOnly();
  private notebook = '';
  private data: LineageData = { nodes: [], edges: [] };
  private signature = '';
  private scale = 1;
  private tx = 12;
  private ty = 12;
  private selected = '';
  /** A node whose whole lineage (all notebooks, reports) is shown instead of the notebook's. */
  private traced: LineageNode | null = null;
  private readonly back = h('button', {
    class: 'jp-Button jp-mod-minimal cmlops-link cmlops-back',
    text: '‹ Back to the notebook',
    attrs: { type: 'button' }
  });
  /** Set once the user zooms or pans: from then on new data keeps their view. */
  private userMoved = false;
  private compact = false;
  private readonly banner = h('div', { class: 'cmlops-banner-slot' });
  private readonly caption = h('div', { class: 'cmlops-caption', text: 'No notebook open' });
  private readonly search = h('input', {
    class: 'jp-mod-styled cmlops-search',
    attrs: { type: 'search', placeholder: 'Find node', 'aria-label': 'Find node' }
  });
  private readonly canvas = svg('svg', { class: 'cmlops-graph', role: 'img' });
  private readonly root = svg('g');
  private readonly details = h('div', { class: 'cmlops-details', attrs: { 'aria-live': 'polite' } });

  constructor() {
    super();
    this.addClass('cmlops-lineage');
    this.canvas.setAttribute('aria-label', 'Lineage graph');
    this.canvas.appendChild(this.root);
    const button = (label: string, title: string, action: () => void) =>
      h('button', {
        class: 'jp-Button jp-mod-minimal cmlops-tool',
        text: label,
        title,
        attrs: { type: 'button', 'aria-label': title },
        on: { click: action }
      });
    const tools = h(
      'div',
      { class: 'cmlops-toolbar' },
      this.search,
      button('+', 'Zoom in', () => this.zoom(1.25, true)),
      button('−', 'Zoom out', () => this.zoom(0.8, true)),
      button('Fit', 'Fit the graph to the panel', () => {
        this.userMoved = false;
        this.fit();
      }),
      button('⟳', 'Reload lineage', () => void this.refresh(true))
    );
    this.search.addEventListener('input', () => this.draw());
    this.back.addEventListener('click', () => this.trace(null));
    this.node.append(this.banner, this.caption, this.back, tools, this.canvas, this.details);
    this.installPanZoom();
  }

  /** Earlier names of notebooks renamed during this session: new name -> old names. */
  private readonly renamed = new Map<string, string[]>();

  /** A notebook was renamed: keep showing what was recorded under its old name. */
  noteRename(oldPath: string, newPath: string): void {
    if (oldPath && newPath && oldPath !== newPath) {
      const before = [oldPath, ...(this.renamed.get(oldPath) ?? [])];
      this.renamed.set(newPath, Array.from(new Set(before)));
    }
  }

  setNotebook(path: string): void {
    if (path !== this.notebook) {
      this.latest.cancel(); // a reply for the previous notebook is never drawn under this one
      this.notebook = path;
      this.traced = null;
      this.selected = '';
      this.signature = '';
      this.userMoved = false;
      clear(this.details);
      void this.refresh(true);
    }
  }

  protected onResize(): void {
    const compact = this.canvas.clientWidth > 0 && this.canvas.clientWidth < COMPACT_BELOW;
    if (compact !== this.compact && this.data.nodes.length) {
      this.draw();
      if (!this.userMoved) {
        this.fit();
      }
    }
  }

  protected onAfterShow(): void {
    if (!this.userMoved) {
      this.fit();
    }
  }

  get nodeCount(): number {
    return this.data.nodes.length;
  }

  async refresh(force = false): Promise<void> {
    this.back.hidden = !this.traced;
    if (!this.notebook && !this.traced) {
      this.latest.cancel();
      this.caption.textContent = 'Open a notebook to see its lineage';
      this.data = { nodes: [], edges: [] };
      this.draw();
      return;
    }
    try {
      const earlier = this.renamed.get(this.notebook) ?? [];
      const query = this.traced
        ? { entity: this.traced.id }
        : { notebook: [this.notebook, ...earlier] };
      const data = await this.latest.run(signal =>
        requestAPI<LineageData>('lineage', { signal }, query)
      );
      if (data === null) {
        return; // superseded: another notebook or node was asked for meanwhile
      }
      clear(this.banner);
      const signature = graphSignature(data);
      this.data = data;
      const where = this.traced
        ? `Lineage of ${this.traced.label} (all notebooks)`
        : this.notebook + (earlier.length ? ` (renamed from ${earlier.join(', ')})` : '');
      this.caption.textContent = data.nodes.length
        ? `${where}: ${data.nodes.length} nodes` + (data.truncated ? ' (newest shown)' : '')
        : `${where}: nothing recorded yet — run a cell with %%cmlops_track (or ` +
          '%cmlops_autotrack on) after %load_ext cmlops';
      if (force || signature !== this.signature) {
        this.signature = signature;
        this.draw();
        if (force || !this.userMoved) {
          this.fit();
        }
      }
    } catch (error) {
      this.showError(error);
    }
  }

  /** Used by the sidebar to show store errors here too. */
  showError(error: unknown): void {
    clear(this.banner);
    const advice =
      error instanceof ApiError ? error.advice : { message: String(error), fix: undefined };
    this.banner.appendChild(errorBanner(advice.message, advice.fix));
  }

  private draw(): void {
    clear(this.root);
    const { nodes, edges } = this.data;
    if (!nodes.length) {
      this.canvas.classList.add('cmlops-empty');
      return;
    }
    this.canvas.classList.remove('cmlops-empty');
    this.compact = this.canvas.clientWidth > 0 && this.canvas.clientWidth < COMPACT_BELOW;
    const W = this.compact ? 92 : DEFAULT_OPTIONS.nodeWidth;
    const placed = layout(
      nodes.map(n => n.id),
      edges,
      this.compact ? { nodeWidth: W, layerGap: 22 } : {}
    );
    const hits = matchNodes(this.data, this.search.value);
    const edgeLayer = svg('g', { class: 'cmlops-edges' });
    for (const edge of edges) {
      const a = placed.nodes.get(edge.source);
      const b = placed.nodes.get(edge.target);
      if (!a || !b) {
        continue;
      }
      const x1 = a.x + W;
      const y1 = a.y + H / 2;
      const x2 = b.x;
      const y2 = b.y + H / 2;
      const mid = (x1 + x2) / 2;
      edgeLayer.appendChild(
        svg('path', {
          class: `cmlops-edge cmlops-edge-${edge.relation}`,
          d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`
        })
      );
    }
    const nodeLayer = svg('g', { class: 'cmlops-nodes' });
    for (const node of nodes) {
      const p = placed.nodes.get(node.id)!;
      const g = svg('g', {
        class: `cmlops-node cmlops-node-${nodeClass(node)}`,
        transform: `translate(${p.x},${p.y})`,
        tabindex: 0,
        role: 'button',
        'data-id': node.id,
        'data-kind': nodeClass(node)
      });
      if (node.id === this.selected) {
        g.classList.add('cmlops-selected');
      }
      if (hits.has(node.id)) {
        g.classList.add('cmlops-hit');
      }
      g.setAttribute('aria-label', `${nodeClass(node)} ${node.label}`);
      const rx = node.type === 'activity' ? 3 : 12;
      g.appendChild(svg('rect', { width: W, height: H, rx, ry: rx }));
      const label = svg('text', { x: 8, y: 14, class: 'cmlops-node-label' });
      label.textContent = truncate(node.label, this.compact ? 13 : 16);
      const kind = svg('text', { x: 8, y: 27, class: 'cmlops-node-kind' });
      fitLine(kind, secondLine(node), W - 14, this.compact ? 15 : 19);
      const tip = svg('title');
      tip.textContent = node.model?.class ? `${node.label}\n${node.model.class}` : node.label;
      g.append(tip, label, kind);
      g.addEventListener('click', () => this.select(node));
      g.addEventListener('keydown', (event: KeyboardEvent) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          this.select(node);
        }
      });
      nodeLayer.appendChild(g);
    }
    this.root.append(edgeLayer, nodeLayer);
    this.applyTransform();
  }

  private select(node: LineageNode): void {
    this.selected = node.id;
    for (const el of Array.from(this.root.querySelectorAll('.cmlops-selected'))) {
      el.classList.remove('cmlops-selected');
    }
    this.root.querySelector(`[data-id="${CSS.escape(node.id)}"]`)?.classList.add('cmlops-selected');
    clear(this.details);
    this.details.appendChild(renderDetails(node));
    if (node.type === 'entity' && node.id !== this.traced?.id) {
      this.details.appendChild(
        h('button', {
          class: 'jp-Button jp-mod-styled cmlops-trace',
          text: 'Trace this node across notebooks and reports',
          attrs: { type: 'button' },
          on: { click: () => this.trace(node) }
        })
      );
    }
  }

  /** Show everything ``node`` came from and everything made from it (null: the notebook). */
  trace(node: LineageNode | null): void {
    this.traced = node;
    this.selected = node?.id ?? '';
    this.userMoved = false;
    void this.refresh(true);
  }

  private zoom(factor: number, byUser: boolean, cx?: number, cy?: number): void {
    this.userMoved = this.userMoved || byUser;
    const rect = this.canvas.getBoundingClientRect();
    const x = cx ?? rect.width / 2;
    const y = cy ?? rect.height / 2;
    const next = Math.min(4, Math.max(0.05, this.scale * factor));
    this.tx = x - ((x - this.tx) * next) / this.scale;
    this.ty = y - ((y - this.ty) * next) / this.scale;
    this.scale = next;
    this.applyTransform();
  }

  fit(): void {
    const rect = this.canvas.getBoundingClientRect();
    const box = safeBBox(this.root);
    if (!box || !rect.width || !rect.height || !box.width) {
      return;
    }
    // Fit, but never so small that labels become unreadable: large graphs are panned.
    const fitted = Math.min((rect.width - 24) / box.width, (rect.height - 24) / box.height);
    this.scale = Math.min(1.2, Math.max(0.45, fitted));
    this.tx = 12 - box.x * this.scale;
    const spare = rect.height - box.height * this.scale;
    this.ty = (spare > 24 ? spare / 2 : 12) - box.y * this.scale;
    this.applyTransform();
  }

  private applyTransform(): void {
    this.root.setAttribute('transform', `translate(${this.tx},${this.ty}) scale(${this.scale})`);
  }

  private installPanZoom(): void {
    let dragging: { x: number; y: number; tx: number; ty: number } | null = null;
    this.canvas.addEventListener(
      'wheel',
      (event: WheelEvent) => {
        event.preventDefault();
        const rect = this.canvas.getBoundingClientRect();
        this.zoom(event.deltaY < 0 ? 1.1 : 0.9, true, event.clientX - rect.left, event.clientY - rect.top);
      },
      { passive: false }
    );
    this.canvas.addEventListener('pointerdown', (event: PointerEvent) => {
      if ((event.target as Element).closest('.cmlops-node')) {
        return;
      }
      dragging = { x: event.clientX, y: event.clientY, tx: this.tx, ty: this.ty };
      this.canvas.setPointerCapture(event.pointerId);
    });
    this.canvas.addEventListener('pointermove', (event: PointerEvent) => {
      if (dragging) {
        this.userMoved = true;
        this.tx = dragging.tx + event.clientX - dragging.x;
        this.ty = dragging.ty + event.clientY - dragging.y;
        this.applyTransform();
      }
    });
    const stop = () => (dragging = null);
    this.canvas.addEventListener('pointerup', stop);
    this.canvas.addEventListener('pointercancel', stop);
  }
}

function safeBBox(g: SVGGElement): DOMRect | null {
  try {
    return g.getBBox();
  } catch {
    return null;
  }
}

/** What a node is: an activity's status, a model's class (short name), else its kind. */
function secondLine(node: LineageNode): string {
  if (node.type === 'activity') {
    return node.status || node.kind;
  }
  const cls = node.model?.class;
  return cls ? cls.slice(cls.lastIndexOf('.') + 1) : node.kind;
}

/**
 * A node's second line (a model's class name is the one a reader needs whole): up to
 * ``fits`` characters as they are; longer ones condensed into ``width`` (SVG textLength)
 * up to half as many again, and only beyond that cut with "…" (the tooltip has it all).
 */
function fitLine(text: SVGTextElement, value: string, width: number, fits: number): void {
  const most = Math.floor(fits * 1.5);
  text.textContent = truncate(value, most);
  if (value.length > fits) {
    text.setAttribute('textLength', String(width));
    text.setAttribute('lengthAdjust', 'spacingAndGlyphs');
  }
}

function truncate(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

function row(name: string, value: string | number | null | undefined): HTMLElement | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  return h('tr', {}, h('th', { text: name }), h('td', { text: String(value) }));
}

/** The details of one node, all as text. */
export function renderDetails(node: LineageNode): HTMLElement {
  const table = h(
    'table',
    { class: 'cmlops-kv' },
    row('Kind', node.kind),
    row('Fingerprint', node.fingerprint),
    row('Rows', node.rows ?? undefined),
    row('Path', node.location),
    row('Notebook', node.notebook),
    row('Status', node.status),
    row('Error', node.error),
    row('Who', node.who),
    row('When', node.when)
  );
  const box = h('div', { class: 'cmlops-node-details' }, h('h3', { text: node.label }), table);
  if (node.model) {
    table.prepend(row('Class', node.model.class || 'not recorded')!);
    const params = h('table', { class: 'cmlops-columns cmlops-params' },
      h('tr', {}, h('th', { text: 'Hyper-parameter' }), h('th', { text: 'Value' })));
    for (const [name, value] of node.model.params) {
      params.appendChild(h('tr', {}, h('td', { text: name }), h('td', { text: value })));
    }
    box.append(h('h4', { text: `Hyper-parameters (${node.model.params.length})` }), params);
  }
  if (node.columns && node.columns.length) {
    const cols = h('table', { class: 'cmlops-columns' },
      h('tr', {}, h('th', { text: 'Column' }), h('th', { text: 'dtype' })));
    for (const c of node.columns) {
      cols.appendChild(h('tr', {}, h('td', { text: c.name }), h('td', { text: c.dtype })));
    }
    box.append(h('h4', { text: `Columns (${node.columns.length})` }), cols);
  }
  if (node.code) {
    box.append(h('h4', { text: 'Code' }), h('pre', { class: 'cmlops-code', text: node.code }));
  }
  return box;
}
