/**
 * The Reports panel's list of runs and packages: status, progress, the plan's
 * verdict (PASS / FAIL / NOT EVALUATED, as the package's manifest states it), the
 * "verified" badge the server recomputes on each listing, and the read-only views.
 */
import { h } from './dom';
import { verdictClass } from './form';
import { PackageView, ViewOpener } from './package-view';
import { PackageInfo, Run } from './types';

/** The plan's verdict as a badge (null when the package states none yet). */
export function verdictBadge(verdict: string | undefined): HTMLElement | null {
  const cls = verdictClass(verdict);
  if (!cls || !verdict) {
    return null;
  }
  return h('span', {
    class: `cmlops-verdict-badge ${cls}`,
    text: verdict,
    title: `The acceptance plan's verdict: ${verdict}`
  });
}

/** The badge of a package as the server verified it now (a run's own check before listing). */
function verifiedBadge(verified: boolean | null | undefined, problem = ''): HTMLElement | null {
  if (verified === null || verified === undefined) {
    return null;
  }
  return h('span', {
    class: `cmlops-badge ${verified ? 'cmlops-ok' : 'cmlops-bad'}`,
    text: verified ? 'verified' : 'verification failed',
    attrs: problem ? { title: problem } : {}
  });
}

function links(pkg: PackageInfo | undefined, open: ViewOpener): HTMLElement | null {
  if (!pkg) {
    return null;
  }
  const link = (text: string, view: PackageView) =>
    pkg.views.includes(view)
      ? h('button', {
          class: 'jp-Button jp-mod-minimal cmlops-link',
          text,
          attrs: { type: 'button', 'data-view': view, title: `Open the ${view} (read-only)` },
          on: { click: () => open(pkg.id, view) }
        })
      : null;
  return h('span', { class: 'cmlops-links' }, link('Report', 'report'), link('Notebook', 'notebook'));
}

function badges(...items: (HTMLElement | null)[]): (HTMLElement | string)[] {
  return items.filter((b): b is HTMLElement => b !== null).flatMap(b => [' ', b]);
}

export function runItem(run: Run, pkg: PackageInfo | undefined, open: ViewOpener): HTMLElement {
  const verified = pkg ? verifiedBadge(pkg.verified, pkg.problem) : verifiedBadge(run.verified);
  const verdict = verdictBadge(pkg?.verdict || run.verdict);
  const progress = h('progress', { attrs: { max: '1', 'aria-label': 'Run progress' } });
  progress.value = run.progress;
  const plan = run.plan ? ` · plan ${run.plan}` : '';
  return h('li', { class: `cmlops-run-item cmlops-status-${run.status}`, attrs: { 'data-run': run.id } },
    h('div', {},
      h('strong', { text: run.template }),
      h('span', { class: 'cmlops-status', text: ` ${run.status}` }),
      ...badges(verdict, verified)),
    run.status === 'running' || run.status === 'queued' ? progress : null,
    h('div', { class: 'cmlops-muted', text: `${run.started} · ${run.message}${plan}` }),
    run.error ? h('div', { class: 'cmlops-field-error', text: run.error }) : null,
    links(pkg, open));
}

export function packageItem(pkg: PackageInfo, open: ViewOpener): HTMLElement {
  return h('li', { class: 'cmlops-run-item', attrs: { 'data-package': pkg.id } },
    h('div', {}, h('strong', { text: pkg.id }),
      ...badges(verdictBadge(pkg.verdict), verifiedBadge(pkg.verified, pkg.problem))),
    h('div', { class: 'cmlops-muted', text: `${pkg.status || 'no status'} · ${pkg.files} files` }),
    pkg.verified === false && pkg.problem
      ? h('div', { class: 'cmlops-field-error', text: pkg.problem })
      : null,
    links(pkg, open));
}
