/**
 * The Reports panel: pick a template, fill the form generated from its
 * parameter schema (validated before sending; path parameters picked with a file
 * picker under the Jupyter root), choose the acceptance plan (the template's
 * default, a plan file picked or uploaded), run it in the background with live
 * progress, and open read-only views of the report and executed notebook of past
 * runs. Errors show beside their field and, summed up, beside the Run button; the
 * runs list shows each plan's verdict. Each package's "verified" badge comes from
 * the server's listing, which verifies the package again whenever its files changed.
 */
import { Widget } from '@lumino/widgets';
import { ApiError, postAPI, requestAPI } from './api';
import { append, clear, errorBanner, h } from './dom';
import { FilePicker } from './file-picker';
import { FieldValue, initialValue, validateForm } from './form';
import { ViewOpener } from './package-view';
import { PLAN_FIELD, PlanField } from './plan-field';
import { packageItem, runItem } from './run-history';
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
  private readonly plan = new PlanField();
  /** beside the Run button: what stopped the run (field errors summed up, or the server's) */
  private readonly runError = h('div', {
    class: 'cmlops-run-error',
    attrs: { id: 'cmlops-run-error', role: 'alert', 'aria-live': 'polite' }
  });

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
    this.plan.setTemplate(this.current);
    this.setRunError('');
    this.form.append(
      this.plan.node,
      h('div', { class: 'cmlops-run-row' },
        h('button', {
          class: 'jp-Button jp-mod-styled jp-mod-accept cmlops-run',
          text: 'Run report',
          attrs: { type: 'submit', 'aria-describedby': 'cmlops-run-error' }
        }),
        this.runError)
    );
  }

  private setRunError(message: string, fix?: string): void {
    clear(this.runError);
    if (message) {
      append(this.runError, h('span', { text: message }),
        fix ? h('div', { class: 'cmlops-muted', text: fix }) : null);
    }
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
    const picker =
      spec.type === 'path' || spec.type === 'dataset' ? this.pathPicker(spec, input as HTMLInputElement) : null;
    return h('div', { class: 'cmlops-field', attrs: { 'data-param': spec.name } }, label,
      picker ? h('div', { class: 'cmlops-path-row' }, input, picker.browse) : input,
      picker ? picker.node : null,
      spec.description ? h('div', { class: 'cmlops-muted', text: spec.description }) : null, error);
  }

  /** A "Browse…" button and the picker it opens: a picked file fills the field. */
  private pathPicker(spec: ParamSpec, input: HTMLInputElement): { browse: HTMLElement; node: HTMLElement } {
    const picker = new FilePicker('any', `Pick a file for ${spec.name}`, entry => {
      input.value = entry.path;
      input.dispatchEvent(new Event('change'));
      input.focus();
    });
    const browse = h('button', {
      class: 'jp-Button jp-mod-minimal jp-mod-styled cmlops-browse',
      text: 'Browse…',
      title: `Pick a file under the Jupyter root for ${spec.name}`,
      attrs: { type: 'button', 'aria-label': `Browse for ${spec.name}` },
      on: {
        click: () => {
          if (picker.isOpen) {
            picker.close();
          } else {
            const folder = input.value.includes('/') ? input.value.slice(0, input.value.lastIndexOf('/')) : '';
            void picker.open(folder, true);
          }
        }
      }
    });
    return { browse, node: picker.node };
  }

  /** Show the errors of the named fields (all fields when ``names`` is omitted). */
  private showErrors(errors: Record<string, string>, names?: string[]): void {
    for (const box of Array.from(this.form.querySelectorAll<HTMLElement>('.cmlops-field'))) {
      const name = box.dataset.param ?? '';
      if (name === PLAN_FIELD || (names && !names.includes(name))) {
        continue; // the plan field shows its own errors
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
    this.plan.setError('');
    const bad = Object.keys(errors);
    if (bad.length) {
      this.setRunError(`Not started: fix ${bad.join(', ')} first.`);
      return;
    }
    this.setRunError('');
    try {
      const body: Record<string, unknown> = { template: this.current.name, parameters: values };
      if (this.plan.ref) {
        body.plan = this.plan.ref;
      }
      await postAPI<Run>('runs', body);
      clear(this.banner);
      await this.refreshHistory();
    } catch (error) {
      const advice = error instanceof ApiError ? error.advice : { message: String(error) };
      const fields = advice.fields ?? {};
      const { [PLAN_FIELD]: planError, ...params } = fields;
      this.showErrors(params);
      this.plan.setError(planError ?? '');
      this.setRunError(`Not started: ${advice.message}`, advice.fix);
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
      this.history.appendChild(runItem(run, packages.find(p => p.id === run.package_id), this.open));
    }
    for (const pkg of packages) {
      if (!shown.has(pkg.id)) {
        this.history.appendChild(packageItem(pkg, this.open));
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
}
