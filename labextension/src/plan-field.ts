/**
 * The acceptance plan of a report run, in the form: the template's default plan,
 * a plan file picked under the Jupyter root, or a plan file uploaded from this
 * computer. Either way the server checks the plan as `--plan FILE` would (strict
 * types, no YAML tags, no NaN) before the run, and the form shows what it holds:
 * its id, its criteria and its SHA-256 — or the error, beside the field.
 */
import { ApiError, postAPI } from './api';
import { clear, h } from './dom';
import { FilePicker } from './file-picker';
import { bytesToBase64 } from './form';
import { PlanRef, PlanSummary, Template } from './types';

/** The largest plan the server accepts (checked here too, before reading the file). */
const MAX_PLAN_BYTES = 1024 * 1024;
/** The form's field name of the plan (the server names its errors so). */
export const PLAN_FIELD = 'cmlops_plan';

type Criterion = { id: string; metric: string; subgroup?: string | null; op: string; threshold: number };

export class PlanField {
  readonly node: HTMLElement;
  private chosen: PlanSummary | null = null;
  private defaultPlan: Template['default_plan'] = null;
  private readonly current = h('div', { class: 'cmlops-plan-current' });
  private readonly criteria = h('ul', { class: 'cmlops-plan-criteria' });
  private readonly error = h('div', {
    class: 'cmlops-field-error',
    attrs: { id: 'cmlops-plan-error', role: 'alert' }
  });
  private readonly upload = h('input', {
    class: 'cmlops-plan-upload',
    attrs: { type: 'file', accept: '.yaml,.yml,.json', 'aria-label': 'Upload a plan file' }
  });
  private readonly useDefault: HTMLButtonElement;
  private readonly picker = new FilePicker('plan', 'Pick a plan file', entry => {
    void this.check({ path: entry.path });
  });

  constructor() {
    const button = (text: string, cls: string, action: () => void) =>
      h('button', {
        class: `jp-Button jp-mod-minimal jp-mod-styled ${cls}`,
        text,
        attrs: { type: 'button' },
        on: { click: action }
      });
    this.upload.hidden = true;
    this.upload.addEventListener('change', () => void this.uploadChosen());
    this.useDefault = button('Use the template default', 'cmlops-plan-default', () => this.reset());
    this.node = h('div', {
      class: 'cmlops-field cmlops-plan',
      attrs: { 'data-param': PLAN_FIELD, 'aria-describedby': 'cmlops-plan-error' }
    },
      h('span', { class: 'cmlops-label', text: 'Acceptance plan' }),
      this.current,
      this.criteria,
      h('div', { class: 'cmlops-plan-actions' },
        button('Pick a plan file…', 'cmlops-plan-pick', () => void this.picker.open('')),
        button('Upload a plan…', 'cmlops-plan-upload-button', () => this.upload.click()),
        this.useDefault,
        this.upload),
      this.picker.node,
      this.error);
  }

  /** A new template: back to its default plan. */
  setTemplate(template: Template): void {
    this.defaultPlan = template.default_plan ?? null;
    this.reset();
  }

  /** What the run request names: the chosen plan, or null for the template's default. */
  get ref(): PlanRef | null {
    return this.chosen ? this.chosen.ref : null;
  }

  setError(text: string): void {
    this.error.textContent = text;
    this.node.classList.toggle('cmlops-invalid', !!text);
  }

  reset(): void {
    this.chosen = null;
    this.upload.value = '';
    this.picker.close();
    this.setError('');
    const plan = this.defaultPlan;
    this.show(
      plan ? `Template default plan${plan.plan_id ? ` ${plan.plan_id}` : ''}` : 'No default plan: pick or upload one',
      plan?.criteria ?? []
    );
    this.useDefault.hidden = true;
  }

  private show(title: string, criteria: Criterion[]): void {
    this.current.textContent = title;
    clear(this.criteria);
    for (const c of criteria) {
      const where = c.subgroup ? `[${c.subgroup}]` : '';
      this.criteria.appendChild(h('li', { text: `${c.id}: ${c.metric}${where} ${c.op} ${c.threshold}` }));
    }
  }

  private async uploadChosen(): Promise<void> {
    const file = this.upload.files?.[0];
    if (!file) {
      return;
    }
    if (file.size > MAX_PLAN_BYTES) {
      this.setError(`${file.name} is larger than ${MAX_PLAN_BYTES / 1024} KiB: a plan is a small YAML or JSON file`);
      return;
    }
    const content = bytesToBase64(new Uint8Array(await file.arrayBuffer()));
    await this.check({ name: file.name, content });
  }

  /** Ask the server to check a picked path or an upload; show the plan or the error. */
  private async check(body: { path: string } | { name: string; content: string }): Promise<void> {
    this.setError('');
    this.current.textContent = 'Checking the plan…';
    try {
      const plan = await postAPI<PlanSummary>('plans', body);
      this.chosen = plan;
      const from = 'path' in body ? body.path : `upload ${plan.name}`;
      this.show(`Plan ${plan.plan_id || '(no id)'} from ${from} · SHA-256 ${plan.sha256.slice(0, 12)}…`,
        plan.criteria);
      this.useDefault.hidden = false;
    } catch (error) {
      this.upload.value = '';
      const message = error instanceof ApiError ? error.advice.message : String(error);
      this.reset();
      this.setError(message);
    }
  }
}
