// Members' Markdown is rendered by marked and then sanitized by DOMPurify
// before it reaches the DOM: no script, no event handlers, no SVG/MathML,
// no inline styles or <style>, no frames or forms, no remote images, and
// only http(s)/mailto links, which open outside the app.
import { Marked } from 'marked';
import DOMPurify from 'dompurify';

const marked = new Marked({ gfm: true, breaks: false, async: false });

const ALLOWED_URL = /^(https?:|mailto:)/i;
let hooked = false;

function installHooks() {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      if (!ALLOWED_URL.test(href.trim())) {
        node.removeAttribute('href');
      } else {
        node.setAttribute('rel', 'noopener noreferrer nofollow');
        node.setAttribute('target', '_blank');
      }
    }
    if (node.tagName === 'IMG') {
      // Images may only be embedded data; never fetched from elsewhere.
      const src = node.getAttribute('src') ?? '';
      if (!/^data:image\/(png|jpeg|gif|webp);base64,/i.test(src)) node.removeAttribute('src');
    }
  });
}

export function renderMarkdown(source: string): string {
  installHooks();
  const html = marked.parse(source ?? '') as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'frame', 'object', 'embed', 'link', 'meta', 'base'],
    FORBID_ATTR: ['style', 'srcset', 'action', 'formaction', 'xlink:href'],
    ALLOW_DATA_ATTR: false,
  });
}

/** Escapes text for safe insertion as HTML. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A search snippet with «matches» turned into <mark>, everything else escaped. */
export function snippetHtml(snippet: string): string {
  return escapeHtml(snippet).replace(/«/g, '<mark>').replace(/»/g, '</mark>');
}
