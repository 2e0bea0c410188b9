/**
 * The Reports panel: pick a template, fill the form generated from its
 * parameter schema (validated before sending), run it in the background with
 * live progress, and open read-only views of the report and executed notebook
 * of past runs. Each package's "verified" badge comes from the server's listing,
 * which verifies the package again whenever its files changed.
 */
import { Widget } from '@lumino/widgets';
import { ApiError, postAPI, requestAPI } from './api';
import { clear, errorBanner, h } from './dom';
import { FieldValue, initialValue, validateForm } from './form';
import { PackageView, ViewOpener } from './package-view';
import { PackageInfo, ParamSpec, Run, Template } from './types';

export class ReportsPanel extends Widget {
  private templates: Template[] = [];
  private current: Template | null = null;
  private values: Record<string, FieldValue> = {};
  private polling = 0;
  private readonly banner = h('div', { class: 'cmlops-banner-slot' });
  private readonly picker = h('select', {
    class: 'jp-mod-styled',
    attrs: { 'aria-label': 'Report template' }
  });
  private readonly description = h('p', { class: 'cmlops-muted' });
  private readonly form = h('form', { class: 'cmlops-form', attrs: { novalidate: '' } });
  private readonly history = h('ul', { class: 'cmlops-history' });

  constructor(private readonly open: ViewOpener) {
    super();
    this.addClass('cmlops-reports');
    this.picker.addEventListener('change', () => this.choose(this.picker.value));
    this.form.addEventListener('submit', event => {
      event.preventDefault();
      void this.run();
    });
    this.node.append(
      this.banner,
      h('label', { class: 'cmlops-filter' }, h('span', { text: 'Template' }), this.picker),
      this.description,
      this.form,
      h('h3', { text: 'Runs and packages' }),
      this.history
    );
  }

  async refresh(): Promise<void> {
    try {
      if (!this.templates.length) {
        const { templates } = await requestAPI<{ templates: Template[] }>('templates');
        this.templates = templates;
        clear(this.picker);
        for (const t of templates) {
          this.picker.appendChild(h('option', { text: t.title || t.name, attrs: { value: t.name } }));
        }
        if (templates.length) {
          this.choose(templates[0].name);
        } else {
          this.description.textContent = 'No report templates are installed.';
        }
      }
      clear(this.banner);
      await this.refreshHistory();
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

  private choose(name: string): void {
    this.current = this.templates.find(t => t.name === name) ?? null;
    this.picker.value = name;
    this.values = {};
    clear(this.form);
    if (!this.current) {
      return;
    }
    this.description.textContent = this.current.description;
    for (const spec of this.current.parameters) {
      this.values[spec.name] = initialValue(spec);
      this.form.appendChild(this.field(spec));
    }
    this.form.appendChild(
      h('button', {
        class: 'jp-Button jp-mod-styled jp-mod-accept cmlops-run',
        text: 'Run report',
        attrs: { type: 'submit' }
      })
    );
  }

  private field(spec: ParamSpec): HTMLElement {
    const id = `cmlops-param-${spec.name}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (spec.choices && spec.choices.length) {
      input = h('select', { class: 'jp-mod-styled' });
      if (!spec.required) {
        input.appendChild(h('option', { text: '', attrs: { value: '' } }));
      }
      for (const c of spec.choices) {
        input.appendChild(h('option', { text: String(c), attrs: { value: String(c) } }));
      }
      input.value = String(this.values[spec.name]);
    } else if (spec.type === 'bool') {
      input = h('input', { attrs: { type: 'checkbox' } });
      (input as HTMLInputElement).checked = this.values[spec.name] === true;
    } else {
      input = h('input', {
        class: 'jp-mod-styled',
        attrs: { type: 'text', placeholder: spec.type === 'list' ? 'a, b, c' : spec.type }
      });
      input.value = String(this.values[spec.name]);
    }
    input.id = id;
    input.name = spec.name;
    const error = h('div', { class: 'cmlops-field-error', attrs: { id: `${id}-error` } });
    input.setAttribute('aria-describedby', `${id}-error`);
    input.addEventListener('change', () => {
      this.values[spec.name] =
        input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value;
      this.showErrors(validateForm([spec], this.values).errors, [spec.name]);
    });
    const label = h('label', { class: 'cmlops-label', attrs: { for: id } },
      h('span', { text: spec.name + (spec.required ? ' *' : '') }),
      h('span', { class: 'cmlops-muted', text: ` ${spec.type}` }));
    return h('div', { class: 'cmlops-field', attrs: { 'data-param': spec.name } }, label, input,
      spec.description ? h('div', { class: 'cmlops-muted', text: spec.description }) : null, error);
  }

  /** Show the errors of the named fields (all fields when ``names`` is omitted). */
  private showErrors(errors: Record<string, string>, names?: string[]): void {
    for (const box of Array.from(this.form.querySelectorAll<HTMLElement>('.cmlops-field'))) {
      const name = box.dataset.param ?? '';
      if (names && !names.includes(name)) {
        continue;
      }
      box.querySelector('.cmlops-field-error')!.textContent = errors[name] ?? '';
      box.classList.toggle('cmlops-invalid', name in errors);
    }
  }

  async run(): Promise<void> {
    if (!this.current) {
      return;
    }
    for (const el of Array.from(this.form.elements)) {
      const input = el as HTMLInputElement;
      if (input.name) {
        this.values[input.name] = input.type === 'checkbox' ? input.checked : input.value;
      }
    }
    const { values, errors } = validateForm(this.current.parameters, this.values);
    this.showErrors(errors);
    if (Object.keys(errors).length) {
      return;
    }
    try {
      await postAPI<Run>('runs', { template: this.current.name, parameters: values });
      clear(this.banner);
      await this.refreshHistory();
    } catch (error) {
      this.showError(error);
    }
  }

  async refreshHistory(): Promise<void> {
    const [{ runs }, { packages }] = await Promise.all([
      requestAPI<{ runs: Run[] }>('runs'),
      requestAPI<{ packages: PackageInfo[] }>('packages')
    ]);
    clear(this.history);
    const shown = new Set<string>();
    for (const run of runs) {
      shown.add(run.package_id);
      this.history.appendChild(this.runItem(run, packages.find(p => p.id === run.package_id)));
    }
    for (const pkg of packages) {
      if (!shown.has(pkg.id)) {
        this.history.appendChild(this.packageItem(pkg));
      }
    }
    if (!this.history.childElementCount) {
      this.history.appendChild(h('li', { class: 'cmlops-muted', text: 'No runs yet.' }));
    }
    const active = runs.some(r => r.status === 'queued' || r.status === 'running');
    window.clearTimeout(this.polling);
    if (active) {
      this.polling = window.setTimeout(() => void this.refreshHistory().catch(e => this.showError(e)), 1000);
    }
  }

  private links(pkg: PackageInfo | undefined): HTMLElement | null {
    if (!pkg) {
      return null;
    }
    const link = (text: string, view: PackageView) =>
      pkg.views.includes(view)
        ? h('button', {
            class: 'jp-Button jp-mod-minimal cmlops-link',
            text,
            attrs: { type: 'button', 'data-view': view, title: `Open the ${view} (read-only)` },
            on: { click: () => this.open(pkg.id, view) }
          })
        : null;
    return h('span', { class: 'cmlops-links' }, link('Report', 'report'), link('Notebook', 'notebook'));
  }

  /** The badge of a package as the server verified it now (a run's own check before listing). */
  private badge(verified: boolean | null | undefined, problem = ''): HTMLElement | null {
    if (verified === null || verified === undefined) {
      return null;
    }
    return h('span', {
      class: `cmlops-badge ${verified ? 'cmlops-ok' : 'cmlops-bad'}`,
      text: verified ? 'verified' : 'verification failed',
      attrs: problem ? { title: problem } : {}
    });
  }

  private runItem(run: Run, pkg: PackageInfo | undefined): HTMLElement {
    const badge = pkg ? this.badge(pkg.verified, pkg.problem) : this.badge(run.verified);
    const progress = h('progress', { attrs: { max: '1', 'aria-label': 'Run progress' } });
    progress.value = run.progress;
    return h('li', { class: `cmlops-run-item cmlops-status-${run.status}`, attrs: { 'data-run': run.id } },
      h('div', {},
        h('strong', { text: run.template }),
        h('span', { class: 'cmlops-status', text: ` ${run.status}` }),
        badge ? ' ' : null, badge),
      run.status === 'running' || run.status === 'queued' ? progress : null,
      h('div', { class: 'cmlops-muted', text: `${run.started} · ${run.message}` }),
      run.error ? h('div', { class: 'cmlops-field-error', text: run.error }) : null,
      this.links(pkg));
  }

  private packageItem(pkg: PackageInfo): HTMLElement {
    const badge = this.badge(pkg.verified, pkg.problem);
    return h('li', { class: 'cmlops-run-item', attrs: { 'data-package': pkg.id } },
      h('div', {}, h('strong', { text: pkg.id }), badge ? ' ' : null, badge),
      h('div', { class: 'cmlops-muted', text: `${pkg.status || 'no status'} · ${pkg.files} files` }),
      pkg.verified === false && pkg.problem
        ? h('div', { class: 'cmlops-field-error', text: pkg.problem })
        : null,
      this.links(pkg));
  }
}
