// What every form does on submit: check locally, stop with the messages
// (focusing the first invalid field), else send; a backend validation error
// lands next to the field it names, any other error under the form.
import { ApiError } from './api';
import type { Errors } from './validate';

export class FormState {
  errors = $state<Errors>({});
  serverError = $state('');
  busy = $state(false);

  /** `idPrefix` + field name is the id of the field's control. */
  constructor(private idPrefix: string) {}

  async submit(errors: Errors, send: () => Promise<unknown>): Promise<boolean> {
    this.serverError = '';
    this.errors = errors;
    const first = Object.keys(errors)[0];
    if (first) {
      document.getElementById(this.idPrefix + first.replace(/_/g, '-'))?.focus();
      return false;
    }
    this.busy = true;
    try {
      await send();
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
