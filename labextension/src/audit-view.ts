/**
 * The Audit trail panel: newest records first, filters, paging, "Verify chain".
 * Records are grouped under the activity they belong to (a tracked cell, a report
 * run) and read in names — "cell [7] pred = clf.predict(X) used model "clf"" — as
 * the server labels them; the raw object id, payload and hash stay one click away.
 */
import { Widget } from '@lumino/widgets';
import { ApiError, postAPI, requestAPI } from './api';
import { blockHeading, groupRecords } from './audit-groups';
import { clear, errorBanner, h } from './dom';
import { LatestOnly } from './latest';
import { auditQuery, AuditFilters, EMPTY_FILTERS } from './filters';
import { AuditPage, AuditRecord, VerifyResult } from './types';

const PAGE = 50;

export class AuditPanel extends Widget {
  private readonly latest = new LatestOnly();
  private filters: AuditFilters = { ...EMPTY_FILTERS };
  private offset = 0;
  private readonly banner = h('div', { class: 'cmlops-banner-slot' });
  private readonly list = h('ol', { class: 'cmlops-audit-list', attrs: { reversed: '' } });
  private readonly pager = h('div', { class: 'cmlops-pager' });
  private readonly verdict = h('div', { class: 'cmlops-verdict', attrs: { 'aria-live': 'polite' } });

  constructor() {
    super();
    this.addClass('cmlops-audit');
    const form = h('form', { class: 'cmlops-filters', attrs: { 'aria-label': 'Audit filters' } });
    const field = (key: keyof AuditFilters, label: string, placeholder: string) => {
      const input = h('input', {
        class: 'jp-mod-styled',
        attrs: { name: key, placeholder, 'aria-label': label, type: 'text' }
      });
      input.addEventListener('change', () => {
        this.filters[key] = input.value;
        this.offset = 0;
        void this.refresh();
      });
      return h('label', { class: 'cmlops-filter' }, h('span', { text: label }), input);
    };
    form.append(
      field('actor', 'Who', 'user'),
      field('action', 'Action', 'e.g. lineage.*'),
      field('object_type', 'Object', 'e.g. entity'),
      field('since', 'Since', 'YYYY-MM-DD'),
      field('until', 'Until', 'YYYY-MM-DD')
    );
    form.addEventListener('submit', event => event.preventDefault());
    const verify = h('button', {
      class: 'jp-Button jp-mod-styled jp-mod-accept cmlops-verify',
      text: 'Verify chain',
      attrs: { type: 'button', title: 'Checks the records added since the last verified head' },
      on: { click: () => void this.verify(false) }
    });
    const full = h('button', {
      class: 'jp-Button jp-mod-styled cmlops-verify-full',
      text: 'Full verify',
      attrs: { type: 'button', title: 'Recomputes every record from the first' },
      on: { click: () => void this.verify(true) }
    });
    this.node.append(this.banner, form,
      h('div', { class: 'cmlops-row' }, verify, full, this.verdict), this.list, this.pager);
  }

  async refresh(): Promise<void> {
    try {
      const query = auditQuery(this.filters, PAGE, this.offset);
      const page = await this.latest.run(signal =>
        requestAPI<AuditPage>('audit', { signal }, query)
      );
      if (page === null) {
        return; // a newer page or filter was asked for meanwhile
      }
      clear(this.banner);
      this.render(page);
    } catch (error) {
      this.showError(error);
    }
  }

  showError(error: unknown): void {
    clear(this.banner);
    const advice =
      error instanceof ApiError ? error.advice : { message: String(error), fix: undefined };
    this.banner.appendChild(errorBanner(advice.message, advice.fix));
  }

  private render(page: AuditPage): void {
    clear(this.list);
    for (const block of groupRecords(page.records, page.groups)) {
      if (!block.key) {
        block.records.forEach(record => this.list.appendChild(renderRecord(record)));
        continue;
      }
      const { title, detail } = blockHeading(block);
      const records = h('ol', { class: 'cmlops-audit-list cmlops-group-records' });
      block.records.forEach(record => records.appendChild(renderRecord(record)));
      this.list.appendChild(h('li', { class: 'cmlops-audit-group', attrs: { 'data-group': block.key } },
        h('details', { attrs: { open: '' } },
          h('summary', { class: 'cmlops-group-head' },
            h('span', { class: 'cmlops-group-title', text: title }),
            h('span', { class: 'cmlops-muted cmlops-group-detail', text: ` ${detail}` })),
          records)));
    }
    if (!page.records.length) {
      this.list.appendChild(h('li', { class: 'cmlops-muted', text: 'No records match.' }));
    }
    clear(this.pager);
    const last = Math.min(page.offset + page.records.length, page.total);
    const nav = (label: string, enabled: boolean, offset: number) =>
      h('button', {
        class: 'jp-Button jp-mod-minimal',
        text: label,
        attrs: enabled ? { type: 'button' } : { type: 'button', disabled: '' },
        on: {
          click: () => {
            this.offset = offset;
            void this.refresh();
          }
        }
      });
    this.pager.append(
      nav('‹ Newer', page.offset > 0, Math.max(0, page.offset - PAGE)),
      h('span', { text: page.total ? `${page.offset + 1}–${last} of ${page.total}` : '0 records' }),
      nav('Older ›', last < page.total, page.offset + PAGE)
    );
  }

  /** Verify from the last verified head (the server keeps it), or every record when ``full``. */
  async verify(full: boolean): Promise<void> {
    clear(this.verdict);
    this.verdict.className = 'cmlops-verdict';
    this.verdict.textContent = full ? 'Verifying every record…' : 'Verifying…';
    try {
      const result = await postAPI<VerifyResult>('verify', { full });
      this.verdict.textContent = '';
      this.verdict.classList.add(result.ok ? 'cmlops-ok' : 'cmlops-bad');
      this.verdict.append(h('strong', { text: result.ok ? 'Chain OK' : 'Chain BROKEN' }),
        h('span', { text: ' ' + result.summary }));
      if (result.broken?.record) {
        this.verdict.appendChild(renderRecord(result.broken.record, 'div'));
      }
    } catch (error) {
      this.verdict.textContent = '';
      this.showError(error);
    }
  }
}

export function renderRecord(record: AuditRecord, tag: 'li' | 'div' = 'li'): HTMLElement {
  const payload = JSON.stringify(record.payload, null, 1) ?? '';
  const object = `${record.object_type} ${record.object_id}`;
  const details = h('details', {},
    h('summary', { text: 'payload' }),
    h('div', { class: 'cmlops-object', text: `object ${object}` }),
    h('pre', { class: 'cmlops-code', text: payload }),
    h('div', { class: 'cmlops-hash', text: `hash ${record.hash}` }));
  return h(tag, { class: 'cmlops-record', attrs: { value: String(record.seq) } },
    h('div', { class: 'cmlops-record-head' },
      h('span', { class: 'cmlops-seq', text: `#${record.seq}` }),
      h('span', { class: 'cmlops-action', text: record.action })),
    h('div', { class: 'cmlops-record-label', text: record.label || object, title: object }),
    h('div', { class: 'cmlops-muted', text: `${record.ts} · ${record.actor}` +
      (record.reason ? ` · ${record.reason}` : '') }),
    details);
}
