/**
 * Validation of report parameters in the form, mirroring the server's schema
 * (str, int, float, bool, path, list, choices, required). The server checks
 * again; this gives the scientist the error next to the field before a run.
 */
import { ParamSpec } from './types';

export type FieldValue = string | boolean;

export interface FormResult {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

export function initialValue(spec: ParamSpec): FieldValue {
  if (spec.type === 'bool') {
    return spec.default === true;
  }
  if (spec.default === null || spec.default === undefined) {
    return '';
  }
  if (Array.isArray(spec.default)) {
    return spec.default.join(', ');
  }
  return String(spec.default);
}

function convert(spec: ParamSpec, raw: FieldValue): { value?: unknown; error?: string } {
  if (spec.type === 'bool') {
    return { value: raw === true || raw === 'true' };
  }
  const text = String(raw).trim();
  if (text === '') {
    return spec.required ? { error: 'required' } : {};
  }
  switch (spec.type) {
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) {
        return { error: 'must be a whole number' };
      }
      return { value: parseInt(text, 10) };
    case 'float': {
      const n = Number(text);
      if (!Number.isFinite(n) || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
        return { error: 'must be a number' };
      }
      return { value: n };
    }
    case 'dataset': // a table name (the server checks it is a plain identifier), or a path
      return /^table:/.test(text) ? { value: text } : relativePath(text);
    case 'path':
      return relativePath(text);
    case 'list':
      return {
        value: text
          .split(',')
          .map(item => item.trim())
          .filter(item => item !== '')
      };
    default:
      return { value: text };
  }
}

/** A path typed into the form: relative to the Jupyter root, never through '..'. */
function relativePath(text: string): { value?: unknown; error?: string } {
  if (text.startsWith('/') || /^[A-Za-z]:/.test(text) || text.split(/[\\/]/).includes('..')) {
    return { error: "must be relative to the Jupyter root, without '..'" };
  }
  return { value: text };
}

export function validateForm(specs: ParamSpec[], raw: Record<string, FieldValue>): FormResult {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const spec of specs) {
    const got = convert(spec, raw[spec.name] ?? initialValue(spec));
    if (got.error) {
      errors[spec.name] = got.error;
      continue;
    }
    if (got.value === undefined) {
      continue;
    }
    if (spec.choices && spec.choices.length) {
      const allowed = spec.choices.map(c => String(c));
      if (!allowed.includes(String(got.value))) {
        errors[spec.name] = `must be one of: ${allowed.join(', ')}`;
        continue;
      }
    }
    values[spec.name] = got.value;
  }
  return { values, errors };
}

/** CSS class of a plan verdict's badge, or null when there is no verdict to show. */
export function verdictClass(verdict: string | undefined | null): string | null {
  switch (verdict) {
    case 'PASS':
      return 'cmlops-verdict-pass';
    case 'FAIL':
      return 'cmlops-verdict-fail';
    case 'NOT EVALUATED':
      return 'cmlops-verdict-ne';
    default:
      return null;
  }
}

/** The breadcrumbs of a picker folder: the root, then each folder down to ``folder``. */
export function crumbs(folder: string): { label: string; path: string }[] {
  const out = [{ label: 'Jupyter root', path: '' }];
  const parts = folder.split('/').filter(p => p !== '');
  parts.forEach((part, i) => out.push({ label: part, path: parts.slice(0, i + 1).join('/') }));
  return out;
}

/** Bytes as base64 (how a plan file is uploaded: exactly its bytes, whatever they are). */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    text += String.fromCharCode(...Array.from(bytes.subarray(i, i + chunk)));
  }
  return btoa(text);
}
