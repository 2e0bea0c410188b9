/** Status bar item: cmlops in the active kernel, autotrack, and the chain status. */
import { Widget } from '@lumino/widgets';
import { h } from './dom';

export interface StatusModel {
  loaded: boolean | null;
  autotrack: boolean;
  chain: 'ok' | 'broken' | 'error' | 'unknown';
  kernelDead?: boolean;
}

export class CmlopsStatus extends Widget {
  private readonly text = h('span', { class: 'cmlops-status-text' });

  constructor(onClick: () => void) {
    super({ node: h('button', { class: 'cmlops-statusbar', attrs: { type: 'button' } }) });
    this.node.title = 'Clinical MLOps: click to open the sidebar';
    this.node.appendChild(this.text);
    this.node.addEventListener('click', onClick);
    this.render({ loaded: null, autotrack: false, chain: 'unknown' });
  }

  /** Show ``model`` (kernel state and chain status). */
  render(model: StatusModel): void {
    const kernel = model.kernelDead
      ? 'kernel died (records already written are kept)'
      : model.loaded === null
        ? 'no kernel'
        : model.loaded
          ? 'cmlops loaded'
          : 'cmlops not loaded';
    const track = model.loaded ? (model.autotrack ? ' · autotrack on' : ' · autotrack off') : '';
    const chain = { ok: 'chain OK', broken: 'chain BROKEN', error: 'store error', unknown: 'chain ?' }[
      model.chain
    ];
    this.text.textContent = `cmlops: ${kernel}${track} · ${chain}`;
    this.node.dataset.chain = model.chain;
    this.node.dataset.loaded = String(model.loaded);
    this.node.classList.toggle('cmlops-bad', model.chain === 'broken' || model.chain === 'error');
  }
}
