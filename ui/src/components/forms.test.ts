import { describe, expect, it, vi, beforeEach } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { i18n } from '../lib/i18n.svelte';
import { ApiError, translateError } from '../lib/api';
import CaseForm from './CaseForm.svelte';
import QuestionForm from './QuestionForm.svelte';
import ProtocolForm from './ProtocolForm.svelte';
import ProfileForm from './ProfileForm.svelte';
import CommunityForm from './CommunityForm.svelte';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(async (cmd: string, args?: { texts?: string[] }) => {
    if (cmd === 'create_community') throw { message: 'name: at most 120 characters', field: 'name' };
    if (cmd === 'scan_text') {
      // As the Rust scanner would answer for "Mrs Okafor": the surname.
      return (args?.texts ?? []).map((t) => {
        const at = t.indexOf('Okafor');
        return at < 0 ? [] : [{ start: at, end: at + 6, category: 'name', text: 'Okafor', redaction: '[NAME]' }];
      });
    }
    return null;
  }),
}));

beforeEach(() => {
  i18n.lang = 'en';
  document.body.innerHTML = '';
});

describe('CaseForm', () => {
  it('names every missing required field and sends nothing', async () => {
    const onSubmit = vi.fn(async () => {});
    render(CaseForm, { onSubmit });
    await userEvent.click(screen.getByRole('button', { name: 'Share case' }));
    expect(onSubmit).not.toHaveBeenCalled();
    const alerts = screen.getAllByRole('alert').map((a) => a.textContent);
    expect(alerts).toEqual(['This is required.', 'This is required.', 'This is required.']);
    expect(screen.getByLabelText('Title')).toHaveProperty('ariaInvalid', 'true');
    expect(document.activeElement).toBe(screen.getByLabelText('Title'));
  });

  it('submits the structured case with normalized tags', async () => {
    const onSubmit = vi.fn(async () => {});
    render(CaseForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Title'), 'Snakebite, 6 hours');
    await userEvent.selectOptions(screen.getByLabelText('Age band'), '30-44');
    await userEvent.selectOptions(screen.getByLabelText('Setting'), 'clinic');
    await userEvent.type(screen.getByLabelText('Presenting complaint'), 'Bitten on the ankle.');
    await userEvent.type(screen.getByLabelText('What you are asking'), 'Antivenom now?');
    await userEvent.type(screen.getByLabelText('Tags'), 'Snakebite, Toxicology');
    await userEvent.click(screen.getByRole('button', { name: 'Share case' }));
    expect(onSubmit).toHaveBeenCalledWith({
      title: 'Snakebite, 6 hours', presenting: 'Bitten on the ankle.', ask: 'Antivenom now?',
      age_band: '30-44', sex: null, setting: 'clinic', history: null, findings: null,
      tags: ['snakebite', 'toxicology'],
    }, 'checked');
  });

  it('rejects a bad tag and a multi-line title', async () => {
    const onSubmit = vi.fn(async () => {});
    render(CaseForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Presenting complaint'), 'x');
    await userEvent.type(screen.getByLabelText('What you are asking'), 'y');
    await userEvent.type(screen.getByLabelText('Tags'), 'ok, bad/tag');
    await userEvent.click(screen.getByRole('button', { name: 'Share case' }));
    expect(screen.getByText('Tags may use letters, numbers and hyphens, up to 40 characters.')).toBeTruthy();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('shows the backend\u2019s error next to the field it names, translated by its code', async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError({ code: 'too_long', message: 'is 201 characters long; the limit is 200', field: 'title', params: { length: '201', max: '200' } });
    });
    render(CaseForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Title'), 'T');
    await userEvent.type(screen.getByLabelText('Presenting complaint'), 'x');
    await userEvent.type(screen.getByLabelText('What you are asking'), 'y');
    await userEvent.click(screen.getByRole('button', { name: 'Share case' }));
    expect(await screen.findByText('This is too long.')).toBeTruthy();
  });

  it('shows a backend error in Spanish, with the values it names', async () => {
    i18n.lang = 'es';
    const onSubmit = vi.fn(async () => {
      throw new ApiError({ code: 'not_found', message: "no item, answer or community with id '3f2a'", field: null, params: { id: '3f2a' } });
    });
    render(CaseForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Título'), 'T');
    await userEvent.type(screen.getByLabelText('Motivo de consulta'), 'x');
    await userEvent.type(screen.getByLabelText('Qué preguntas'), 'y');
    await userEvent.click(screen.getByRole('button', { name: 'Compartir caso' }));
    expect(await screen.findByText("No hay nada con el identificador '3f2a'.")).toBeTruthy();
    expect(screen.queryByText(/no item, answer or community/)).toBeNull();
  });

  it('falls back to the backend\u2019s sentence for a code the locale lacks', async () => {
    expect(translateError({ code: 'a_code_from_a_newer_backend', message: 'something new went wrong', field: null, params: {} })).toBe(
      'something new went wrong',
    );
    expect(translateError({ code: 'bundle', message: 'bundle: damaged; nothing was imported', field: null, params: { detail: 'damaged; nothing was imported' } })).toBe(
      'The bundle could not be used: damaged; nothing was imported',
    );
    expect(translateError({ code: 'wrong_target', message: "'x' is a case, not an answer", field: null, params: { id: 'x', expected: 'answer', actual: 'case' } })).toBe(
      "'x' is a case, not an answer.",
    );
  });

  it('speaks Spanish', async () => {
    i18n.lang = 'es';
    render(CaseForm, { onSubmit: vi.fn(async () => {}) });
    await userEvent.click(screen.getByRole('button', { name: 'Compartir caso' }));
    expect(screen.getAllByRole('alert')[0].textContent).toBe('Este campo es obligatorio.');
    expect(screen.getByLabelText('Motivo de consulta')).toBeTruthy();
  });
});

describe('QuestionForm', () => {
  it('requires a question and details', async () => {
    const onSubmit = vi.fn(async () => {});
    render(QuestionForm, { onSubmit });
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(screen.getAllByRole('alert')).toHaveLength(2);
    await userEvent.type(screen.getByLabelText('Question'), 'Oxytocin at 30 °C?');
    await userEvent.type(screen.getByLabelText('Details'), 'How long does it keep?');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onSubmit).toHaveBeenCalledWith({ title: 'Oxytocin at 30 °C?', body: 'How long does it keep?', tags: [] }, 'checked');
  });
});

describe('ProtocolForm', () => {
  it('checks the review date and previews sanitized Markdown', async () => {
    const onSubmit = vi.fn(async () => {});
    render(ProtocolForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Title'), 'Sepsis');
    const body = screen.getByLabelText('Protocol text');
    await userEvent.type(body, '# Hour one<img src=x onerror=alert(1)>');
    const preview = screen.getByRole('region', { name: 'Preview' });
    expect(preview.querySelector('h1')?.textContent).toContain('Hour one');
    expect(preview.querySelector('[onerror]')).toBeNull();
    // type=date inputs reject free text in browsers; set a bad value directly.
    const date = screen.getByLabelText('Review date') as HTMLInputElement;
    date.type = 'text';
    await userEvent.type(date, '2027-02-30');
    await userEvent.click(screen.getByRole('button', { name: 'Create protocol' }));
    expect(screen.getByText('Use a date as YYYY-MM-DD.')).toBeTruthy();
    expect(onSubmit).not.toHaveBeenCalled();
    await userEvent.clear(date);
    await userEvent.type(date, '2027-02-28');
    await userEvent.type(screen.getByLabelText('References'), 'SSC 2021{enter}WHO 2023');
    await userEvent.click(screen.getByRole('button', { name: 'Create protocol' }));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({
      title: 'Sepsis', review_date: '2027-02-28', references: ['SSC 2021', 'WHO 2023'],
    }), 'checked');
  });
});

describe('ProfileForm', () => {
  it('requires a name and turns expertise into tags', async () => {
    const onSubmit = vi.fn(async () => {});
    render(ProfileForm, { submitLabel: 'Create my profile', onSubmit });
    await userEvent.click(screen.getByRole('button', { name: 'Create my profile' }));
    expect(screen.getByRole('alert').textContent).toBe('This is required.');
    await userEvent.type(screen.getByLabelText('Your name'), 'Dr Ana Ruiz');
    await userEvent.type(screen.getByLabelText('Expertise'), 'Obstetrics, remote retrieval');
    await userEvent.click(screen.getByRole('button', { name: 'Create my profile' }));
    expect(onSubmit).toHaveBeenCalledWith({ name: 'Dr Ana Ruiz', profession: null, region: null, expertise: ['obstetrics', 'remote-retrieval'] }, null);
  });
});

describe('before sharing', () => {
  it('stops at likely identifiers, highlights them and redacts with one click', async () => {
    const onSubmit = vi.fn(async () => {});
    render(QuestionForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Question'), 'Dose for Mrs Okafor?');
    await userEvent.type(screen.getByLabelText(/^Details/), 'She is on warfarin.');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText('Possible patient identifiers')).toBeTruthy();
    expect(document.querySelector('mark')?.textContent).toBe('Okafor');
    await userEvent.click(screen.getByRole('button', { name: 'Replace with [NAME]' }));
    expect((screen.getByLabelText('Question') as HTMLInputElement).value).toBe('Dose for Mrs [NAME]?');
    expect(screen.queryByText('Possible patient identifiers')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onSubmit).toHaveBeenCalledWith({ title: 'Dose for Mrs [NAME]?', body: 'She is on warfarin.', tags: [] }, 'checked');
  });

  it('shares as written when the user says so', async () => {
    const onSubmit = vi.fn(async () => {});
    render(QuestionForm, { onSubmit });
    await userEvent.type(screen.getByLabelText('Question'), 'Is the Okafor technique safe?');
    await userEvent.type(screen.getByLabelText(/^Details/), 'A published method, not a patient.');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onSubmit).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Share as it is' }));
    expect(onSubmit).toHaveBeenCalledWith({ title: 'Is the Okafor technique safe?', body: 'A published method, not a patient.', tags: [] }, 'as_written');
  });
});

describe('CommunityForm', () => {
  it('requires name and domain, and shows a backend field error', async () => {
    const onCreated = vi.fn();
    render(CommunityForm, { onCreated });
    await userEvent.click(screen.getByRole('button', { name: 'Create community' }));
    expect(screen.getAllByRole('alert')).toHaveLength(2);
    await userEvent.type(screen.getByLabelText('Community name'), 'Rural ED');
    await userEvent.type(screen.getByLabelText('Domain'), 'Emergency care');
    await userEvent.click(screen.getByRole('button', { name: 'Create community' }));
    expect(await screen.findByText('name: at most 120 characters')).toBeTruthy();
    expect(onCreated).not.toHaveBeenCalled();
  });
});
