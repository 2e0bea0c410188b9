/**
 * The "Clinical MLOps" sidebar: Lineage, Audit trail and Reports tabs over the
 * active notebook. While visible it asks the shared head poller (the status bar's
 * too) for its fast rhythm and refreshes the open tab when new records arrive, so
 * a tracked cell shows up within about a second. Store errors appear as a banner
 * with the fix; nothing here throws into JupyterLab.
 */
import { Panel, Widget } from '@lumino/widgets';
import { ApiError, requestAPI } from './api';
import { AuditPanel } from './audit-view';
import { clear, errorBanner, h } from './dom';
import { HeadPoller } from './head-poller';
import { LineagePanel } from './lineage-view';
import { ModelsPanel } from './models-view';
import { ViewOpener } from './package-view';
import { ReportsPanel } from './reports-view';
import { StatusInfo } from './types';

type TabName = 'lineage' | 'audit' | 'reports' | 'models';
/** how often an open Reports tab re-lists the packages (their badges are re-verified) */
const REPORTS_RELIST_MS = 5000;

export class Sidebar extends Panel {
  readonly lineage = new LineagePanel();
  readonly audit = new AuditPanel();
  readonly models = new ModelsPanel();
  readonly reports: ReportsPanel;
  private tab: TabName = 'lineage';
  private readonly unsubscribe: () => void;
  private relist = 0;
  private readonly tabs = h('div', { class: 'cmlops-tabs', attrs: { role: 'tablist' } });
  private readonly banner = new Widget({ node: h('div', { class: 'cmlops-banner-slot' }) });

  constructor(
    open: ViewOpener,
    private readonly poller: HeadPoller
  ) {
    super();
    this.id = 'cmlops-sidebar';
    this.addClass('cmlops-sidebar');
    this.reports = new ReportsPanel(open);
    const header = new Widget({ node: h('div', { class: 'cmlops-header' },
      h('h2', { text: 'Clinical MLOps' }), this.tabs) });
    this.addWidget(header);
    this.addWidget(this.banner);
    for (const [name, label] of [['lineage', 'Lineage'], ['audit', 'Audit trail'], ['reports', 'Reports'], ['models', 'Models']] as [TabName, string][]) {
      this.tabs.appendChild(h('button', {
        class: 'cmlops-tab',
        text: label,
        attrs: { role: 'tab', type: 'button', 'data-tab': name },
        on: { click: () => this.showTab(name) }
      }));
    }
    for (const w of [this.lineage, this.audit, this.reports, this.models]) {
      w.addClass('cmlops-pane');
      this.addWidget(w);
    }
    this.showTab('lineage');
    this.unsubscribe = poller.subscribe({
      changed: async seq => {
        this.setError('');
        this.node.dataset.headSeq = String(seq);
        if (this.isVisible && this.tab !== 'reports') {
          await this.refreshTab();
        }
      },
      failed: error => {
        this.setError(error instanceof ApiError ? error.advice.message : String(error),
          error instanceof ApiError ? error.advice.fix : undefined);
      }
    });
  }

  setNotebook(path: string): void {
    this.lineage.setNotebook(path);
  }

  showTab(name: TabName): void {
    this.tab = name;
    for (const button of Array.from(this.tabs.children) as HTMLElement[]) {
      const on = button.dataset.tab === name;
      button.classList.toggle('cmlops-active', on);
      button.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    this.lineage.setHidden(name !== 'lineage');
    this.audit.setHidden(name !== 'audit');
    this.reports.setHidden(name !== 'reports');
    this.models.setHidden(name !== 'models');
    void this.refreshTab();
  }

  private async refreshTab(): Promise<void> {
    if (this.tab === 'lineage') {
      await this.lineage.refresh();
    } else if (this.tab === 'audit') {
      await this.audit.refresh();
    } else if (this.tab === 'models') {
      await this.models.refresh();
    } else {
      await this.reports.refresh();
    }
  }

  protected onAfterShow(): void {
    void this.start();
  }

  protected onAfterHide(): void {
    this.poller.setFast(this, false);
    window.clearInterval(this.relist);
  }

  private async start(): Promise<void> {
    try {
      const status = await requestAPI<StatusInfo>('status');
      this.poller.setFastMs(Math.max(250, (status.poll_seconds || 1) * 1000));
      this.setError(status.error?.message ?? '', status.error?.fix);
    } catch (error) {
      this.setError(error instanceof ApiError ? error.advice.message : String(error),
        error instanceof ApiError ? error.advice.fix : undefined);
    }
    await this.refreshTab();
    this.poller.setFast(this, this.isVisible);
    // The server verifies a package again whenever its files changed: re-list while the
    // Reports tab is open, so a badge never stays "verified" for a tampered package.
    window.clearInterval(this.relist);
    this.relist = window.setInterval(() => {
      if (this.isVisible && this.tab === 'reports') {
        void this.reports.refreshHistory().catch(error => this.reports.showError(error));
      }
    }, REPORTS_RELIST_MS);
  }

  private setError(message: string, fix?: string): void {
    clear(this.banner.node);
    if (message) {
      this.banner.node.appendChild(errorBanner(message, fix));
    }
  }

  dispose(): void {
    this.poller.setFast(this, false);
    window.clearInterval(this.relist);
    this.unsubscribe();
    super.dispose();
  }
}
