// FlowSentry browser helpers shared by every page (no build step, no inline scripts).
'use strict';

(function () {
  /** Copy buttons: <button class="fs-copy" data-copy-target="#id">. */
  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('.fs-copy') : null;
    if (!button) return;
    const target = document.querySelector(button.getAttribute('data-copy-target') || '');
    if (!target) return;
    const text = target.textContent || '';
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // Clipboard API needs a secure context; fall back to selecting the text.
      const range = document.createRange();
      range.selectNodeContents(target);
      const sel = window.getSelection();
      if (sel) {
        sel.removeAllRanges();
        sel.addRange(range);
        ok = document.execCommand('copy');
      }
    }
    const label = button.textContent;
    button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
    button.classList.toggle('copied', ok);
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove('copied');
    }, 1500);
  });
})();

/**
 * Builds a Bootstrap alert from plain data (text only, never HTML).
 * @param {'danger'|'success'|'warning'|'info'} kind
 * @param {string} title
 * @param {string[]} lines
 */
window.fsAlert = function fsAlert(kind, title, lines) {
  const div = document.createElement('div');
  div.className = `alert alert-${kind} mb-3`;
  div.setAttribute('role', kind === 'danger' ? 'alert' : 'status');
  const strong = document.createElement('strong');
  strong.textContent = title;
  div.appendChild(strong);
  for (const line of lines.filter(Boolean)) {
    const p = document.createElement('div');
    p.className = 'small mt-1';
    p.textContent = line;
    div.appendChild(p);
  }
  return div;
};

/** Turns an error answer { error, details } into readable lines (message, then line/column). */
window.fsErrorLines = function fsErrorLines(body, status) {
  const lines = [];
  if (body && typeof body.error === 'string') lines.push(body.error);
  else lines.push(`The server answered with status ${status}.`);
  const d = body && body.details && typeof body.details === 'object' ? body.details : null;
  if (d) {
    const where = [];
    const said = lines.join(' ').toLowerCase();
    if (d.line != null && !said.includes(`line ${d.line}`)) where.push(`line ${d.line}`);
    if (d.column != null) where.push(`column ${d.column}`);
    if (d.columnName) where.push(`(${d.columnName})`);
    if (where.length) lines.push(`At ${where.join(', ')}.`);
    if (Array.isArray(d.issues)) {
      for (const issue of d.issues.slice(0, 5)) {
        if (issue && typeof issue.message === 'string') {
          const path = Array.isArray(issue.path) && issue.path.length ? `${issue.path.join('.')}: ` : '';
          lines.push(path + issue.message);
        }
      }
    }
  }
  return lines;
};

// Following a link to #inc-… opens that incident (and the "more incidents" group holding it).
(function () {
  function openTarget() {
    const id = decodeURIComponent(window.location.hash.slice(1));
    if (!id.startsWith('inc-')) return;
    const el = document.getElementById(id);
    if (!(el instanceof HTMLDetailsElement)) return;
    for (let p = el; p; p = p.parentElement ? p.parentElement.closest('details') : null) p.open = true;
    el.scrollIntoView({ block: 'start' });
  }
  window.addEventListener('hashchange', openTarget);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', openTarget);
  else openTarget();
})();
