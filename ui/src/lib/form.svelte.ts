// What every form does on submit: check locally, stop with the messages
// (focusing the first invalid field), else send; a backend validation error
// lands next to the field it names, any other error under the form.
import { ApiError, api } from './api';
import type { Sharing as ShareChoice, TextFinding } from './bindings';
import type { Errors } from './validate';

/** A free-text field about to be shared, for the identifier check. */
export interface SharedField {
  name: string;
  label: string;
  value: string;
}

/** What a form shares: its free-text fields now, and how to change one. */
export interface Sharing {
  fields: () => SharedField[];
  set: (name: string, value: string) => void;
  /** Findings the user already chose to keep as written. */
  ignore?: (f: TextFinding) => boolean;
}

export interface FlaggedField extends SharedField {
  findings: TextFinding[];
}

export class FormState {
  errors = $state<Errors>({});
  serverError = $state('');
  busy = $state(false);
  /** Fields with likely patient identifiers, shown before anything is shared. */
  flagged = $state<FlaggedField[]>([]);
  private sharing: Sharing | null = null;
  private shareAnyway = false;

  /** `idPrefix` + field name is the id of the field's control. */
  constructor(private idPrefix: string) {}

  /** Scans the shared fields; true when nothing was found. */
  private async scan(): Promise<boolean> {
    if (!this.sharing) return true;
    const ignore = this.sharing.ignore ?? (() => false);
    const fields = this.sharing.fields().filter((f) => f.value.trim());
    const found = await api.scanText(fields.map((f) => f.value));
    this.flagged = fields
      .map((f, i) => ({ ...f, findings: (found[i] ?? []).filter((x) => !ignore(x)) }))
      .filter((f) => f.findings.length > 0);
    return this.flagged.length === 0;
  }

  /** Scans without submitting (an autosaving editor); true when clean. */
  async check(sharing: Sharing): Promise<boolean> {
    this.sharing = sharing;
    return this.scan();
  }

  /** Replaces one finding with its redaction, then scans again. */
  async redact(field: string, finding: TextFinding) {
    const f = this.flagged.find((x) => x.name === field);
    if (!f || !this.sharing) return;
    const value = f.value.slice(0, finding.start) + finding.redaction + f.value.slice(finding.end);
    this.sharing.set(field, value);
    await this.scan();
  }

  /** Redacts every finding in every flagged field. */
  async redactAll() {
    if (!this.sharing) return;
    for (const f of this.flagged) {
      let value = f.value;
      for (const x of [...f.findings].sort((a, b) => b.start - a.start)) {
        value = value.slice(0, x.start) + x.redaction + value.slice(x.end);
      }
      this.sharing.set(f.name, value);
    }
    await this.scan();
  }

  /** The user has read the findings and shares the text as it is. */
  confirmShare() {
    this.shareAnyway = true;
  }

  /**
   * Checks `errors`, then (with `sharing`) the identifier scan: findings
   * stop the submit and are shown until redacted or confirmed. `send` gets
   * the user's choice for the backend's own check: `as_written` once they
   * confirmed sharing what was found, else `checked`.
   */
  async submit(errors: Errors, send: (share: ShareChoice) => Promise<unknown>, sharing?: Sharing): Promise<boolean> {
    this.serverError = '';
    this.errors = errors;
    const first = Object.keys(errors)[0];
    if (first) {
      document.getElementById(this.idPrefix + first.replace(/_/g, '-'))?.focus();
      return false;
    }
    this.busy = true;
    try {
      this.sharing = sharing ?? null;
      if (sharing && !this.shareAnyway && !(await this.scan())) {
        queueMicrotask(() => document.getElementById(this.idPrefix + 'identifiers')?.focus());
        return false;
      }
      await send(this.shareAnyway ? 'as_written' : 'checked');
      this.flagged = [];
      this.shareAnyway = false;
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.field) this.errors = { [err.field.replace(/-/g, '_')]: err.message };
      else this.serverError = (err as Error).message;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
