// Finds elements as a user (or a screen reader) would: by role and accessible name, by the label
// of a form control, or by visible text. The harness's one element lookup by meaning (lib.rs runs
// it through WebDriver's execute, and puts it before the tests' own scripts with the short forms
// at the end). `kind` is 'role' (first: the role, second: the name or null for any), 'label'
// (first: the label), 'text' (first: words the element's shown text contains) or 'name' (the
// accessible name of `scope`); `substring` matches names and labels by a part, ignoring case;
// `scope` limits the search to an element; `text` keeps only elements whose shown text
// contains it. Returns {found: element} (or {found: [elements]}
// when `all`), else {seen: [the names there are]} for the failure message.
function __locate(kind, first, second, substring, scope, all, text) {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const matches = (have, want) =>
    substring ? have.toLowerCase().includes(want.toLowerCase()) : have === want;
  const visible = (el) => {
    if (!el.isConnected) return false;
    if (el.closest('[hidden], [aria-hidden=true]') && !el.matches('input[type=file]')) return false;
    // Radio buttons, checkboxes and file pickers are often drawn by their label, the input
    // itself made tiny or hidden.
    const box = el.matches('input[type=radio], input[type=checkbox], input[type=file]')
      && el.labels && el.labels[0] ? el.labels[0] : el;
    if (box.getClientRects().length === 0) return false;
    return getComputedStyle(box).visibility !== 'hidden';
  };
  const implicit = (el) => {
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    switch (tag) {
      case 'button': return 'button';
      case 'a': return el.hasAttribute('href') ? 'link' : null;
      case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6': return 'heading';
      case 'textarea': return 'textbox';
      case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'ul': case 'ol': return 'list';
      case 'li': return 'listitem';
      case 'dialog': return 'dialog';
      case 'output': return 'status';
      case 'main': return 'main';
      case 'nav': return 'navigation';
      case 'table': return 'table';
      case 'tr': return 'row';
      case 'th': return 'columnheader';
      case 'td': return 'cell';
      case 'img': return 'img';
      case 'dt': return 'term';
      case 'dd': return 'definition';
      case 'form': return 'form';
      case 'section':
        return el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby') ? 'region' : null;
      case 'article': return 'article';
      case 'progress': return 'progressbar';
      case 'header': return el.closest('main, article, section, aside, nav') ? null : 'banner';
      case 'input':
        if (el.hasAttribute('list')) return 'combobox';
        return {
          button: 'button', submit: 'button', reset: 'button', image: 'button',
          checkbox: 'checkbox', radio: 'radio', search: 'searchbox',
          text: 'textbox', email: 'textbox', tel: 'textbox', url: 'textbox',
        }[type] || null;
    }
    return null;
  };
  const roleOf = (el) => {
    const explicit = norm(el.getAttribute('role')).split(' ')[0];
    return explicit || implicit(el);
  };
  // Text as read out: hidden parts left out, images by their alternative text, a part with its own
  // aria-label by that label.
  const textOf = (node, top = node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE) return '';
    if (node.hidden || node.getAttribute('aria-hidden') === 'true') return '';
    if (node.tagName === 'SCRIPT' || node.tagName === 'STYLE') return '';
    if (node !== top && node.hasAttribute('aria-label')) return ' ' + node.getAttribute('aria-label') + ' ';
    if (node.tagName === 'IMG') return node.getAttribute('alt') || '';
    const style = getComputedStyle(node);
    if (style.display === 'none') return '';
    const inner = [...node.childNodes].map((child) => textOf(child, top)).join('');
    return style.display.startsWith('inline') ? inner : ' ' + inner + ' ';
  };
  const nameOf = (el) => {
    const byIds = el.getAttribute('aria-labelledby');
    if (byIds) {
      return norm(byIds.split(/\s+/).map((id) => {
        const part = document.getElementById(id);
        return part ? textOf(part) : '';
      }).join(' '));
    }
    if (el.hasAttribute('aria-label')) return norm(el.getAttribute('aria-label'));
    if (el.labels && el.labels.length) {
      return norm([...el.labels].map((l) => textOf(l)).join(' '));
    }
    if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type)) return norm(el.value);
    if (el.tagName === 'IMG') return norm(el.getAttribute('alt'));
    const fromContent = ['button', 'link', 'heading', 'tab', 'listitem', 'cell', 'columnheader',
      'row', 'menuitem', 'option', 'checkbox', 'radio', 'switch', 'status', 'alert', 'tooltip'];
    if (fromContent.includes(roleOf(el)) || el.tagName === 'LEGEND') {
      const text = norm(textOf(el));
      if (text) return text;
    }
    if (el.tagName === 'FIELDSET') {
      const legend = el.querySelector(':scope > legend');
      if (legend) return norm(textOf(legend));
    }
    return norm(el.getAttribute('title'));
  };
  if (kind === 'name') return nameOf(scope);
  const root = scope || document;
  const candidates = [...root.querySelectorAll('*')].filter(visible);
  let found = [];
  const seen = [];
  if (kind === 'role') {
    for (const el of candidates) {
      if (roleOf(el) !== first) continue;
      const name = nameOf(el);
      if (second === null || matches(name, second)) found.push(el);
      else seen.push(name);
    }
  } else if (kind === 'label') {
    for (const el of candidates) {
      if (!el.matches('input, textarea, select, [role=textbox], [role=combobox], [role=searchbox]')) continue;
      if (el.type === 'hidden') continue;
      const name = nameOf(el);
      if (matches(name, first)) found.push(el);
      else seen.push(name);
    }
  } else if (kind === 'text') {
    // The innermost elements whose text contains the words: not every ancestor of them too.
    const hits = candidates.filter((el) => norm(el.innerText).includes(first));
    found = hits.filter((el) => !hits.some((other) => other !== el && el.contains(other)));
    if (found.length === 0) seen.push(norm(root.innerText || root.textContent).slice(0, 400));
  }
  // The text as shown (innerText), not as named: a part with its own label still shows its words.
  if (text) found = found.filter((el) => norm(el.innerText).includes(text));
  if (all) return { found };
  return found.length ? { found: found[0] } : { seen: seen.slice(0, 30) };
}
const byRole = (role, name = null, scope = null) => __locate('role', role, name, false, scope, false, null).found || null;
const byRoleContaining = (role, part, scope = null) => __locate('role', role, part, true, scope, false, null).found || null;
const allByRole = (role, name = null, scope = null) => __locate('role', role, name, false, scope, true, null).found;
const byLabel = (label, scope = null) => __locate('label', label, null, false, scope, false, null).found || null;
const accessibleName = (el) => __locate('name', null, null, false, el, false, null);
const byText = (words, scope = null) => __locate('text', words, null, false, scope, false, null).found || null;
