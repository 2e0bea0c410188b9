/**
 * The Models panel: registered models, their versions (status, change, evidence)
 * and their history, read from the registry API (/models). Read-only: every
 * transition is a CLI or Python call that the audit chain records. All store
 * strings go in as text (dom.h), never as markup.
 */
import { Widget } from '@lumino/widgets';
import { ApiError, requestAPI } from './api';
import { clear, errorBanner, h } from './dom';
import { LatestOnly } from './latest';
import { ModelDetail, ModelList, ModelVersion } from './types';

export class ModelsPanel extends Widget {
  private selected = '';
  /** a late reply for a model clicked before is never drawn under the one clicked last */
  private readonly latestDetail = new LatestOnly();
  private readonly banner = h('div', { class: 'cmlops-banner-slot' });
  private readonly list = h('ul', { class: 'cmlops-model-list', attrs: { 'aria-label': 'Models' } });
  private readonly detail = h('div', { class: 'cmlops-model-detail' });

  constructor() {
    super();
    this.addClass('cmlops-models');
    this.node.append(this.banner, this.list, this.detail);
  }

  async refresh(): Promise<void> {
    try {
      const data = await requestAPI<ModelList>('models');
      clear(this.banner);
      this.renderList(data);
      if (this.selected) {
        await this.open(this.selected);
      }
    } catch (error) {
      this.showError(error);
    }
  }

  private renderList(data: ModelList): void {
    clear(this.list);
    if (!data.models.length) {
      this.list.appendChild(h('li', {
        class: 'cmlops-muted',
        text: 'No model is registered. Register one with `cmlops model register NAME --from ENTITY`.'
      }));
      return;
    }
    for (const model of data.models) {
      const statuses = model.versions.map(v => `v${v.version} ${v.status}`).join(', ');
      this.list.appendChild(h('li', { class: 'cmlops-model' },
        h('button', {
          class: 'jp-Button jp-mod-minimal cmlops-model-name',
          text: model.name,
          attrs: { type: 'button', 'data-model': model.name },
          on: { click: () => void this.open(model.name) }
        }),
        h('span', { class: 'cmlops-muted', text: ` ${statuses}` })));
    }
  }

  async open(name: string): Promise<void> {
    this.selected = name;
    try {
      const model = await this.latestDetail.run(signal =>
        requestAPI<ModelDetail>(`models/${encodeURIComponent(name)}`, { signal })
      );
      if (model !== null) {
        this.renderDetail(model);
      }
    } catch (error) {
      this.showError(error);
    }
  }

  private renderDetail(model: ModelDetail): void {
    clear(this.detail);
    const protocol = model.protocol
      ? `change protocol ${model.protocol.protocol_id} (SHA-256 ${model.protocol.sha256.slice(0, 12)}…)`
      : 'no change protocol recorded';
    this.detail.append(
      h('h3', { text: model.name }),
      h('div', { class: 'cmlops-muted', text: model.description || '' }),
      h('div', { class: 'cmlops-muted', text: protocol }),
      h('table', { class: 'cmlops-versions' },
        h('thead', {}, h('tr', {}, ...['version', 'status', 'change', 'evidence'].map(
          t => h('th', { text: t })))),
        h('tbody', {}, ...model.versions.map(renderVersion))),
      h('h4', { text: 'History' }),
      h('ol', { class: 'cmlops-model-history' }, ...model.history.slice().reverse().map(r =>
        h('li', { attrs: { value: String(r.seq) } },
          h('span', { class: 'cmlops-action', text: r.action + (r.version ? ` v${r.version}` : '') }),
          h('span', { class: 'cmlops-muted', text: ` ${r.ts} · ${r.actor}` +
            (r.reason ? ` · ${r.reason}` : '') })))));
  }

  showError(error: unknown): void {
    clear(this.banner);
    const advice =
      error instanceof ApiError ? error.advice : { message: String(error), fix: undefined };
    this.banner.appendChild(errorBanner(advice.message, advice.fix));
  }
}

function renderVersion(v: ModelVersion): HTMLElement {
  const change = v.change.scope === 'in' ? `in scope (${v.change.modification})` : v.change.scope;
  const evidence: string[] = [];
  if (v.validation) {
    evidence.push(`validated by ${v.validation.package_id} (${v.validation.validation})`);
  }
  if (v.approval) {
    evidence.push(`approved by ${v.approval.actor} at ${v.approval.ts}`);
  }
  if (v.retirement) {
    evidence.push(`retired: ${v.retirement.reason}`);
  }
  for (const gap of v.gaps) {
    evidence.push(`lineage gap: ${gap}`);
  }
  return h('tr', { attrs: { 'data-version': String(v.version), 'data-status': v.status } },
    h('td', { text: `v${v.version}`, title: v.entity_id }),
    h('td', { class: `cmlops-status-${v.status}`, text: v.status }),
    h('td', { text: change ?? '', title: (v.change.reasons ?? []).join('; ') }),
    h('td', {}, ...evidence.map(e => h('div', { text: e }))));
}
