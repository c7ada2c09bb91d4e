/**
 * Static files served by Tollgate itself under /assets/ (no CDN; CSP `script-src 'self'`).
 * Kept as strings so they ship inside dist/ without a copy step.
 */

/** Copy buttons: `<button data-copy="ID">` copies the text of the element with that id. */
export const COPY_JS = `'use strict';
document.addEventListener('click', function (event) {
  var target = event.target;
  if (!(target instanceof Element)) return;
  var button = target.closest('[data-copy]');
  if (!button) return;
  var source = document.getElementById(button.getAttribute('data-copy') || '');
  if (!source) return;
  var value = (source.textContent || '').trim();
  var status = document.getElementById('copy-status');
  function capitalize(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
  function done(ok) {
    var label = button.getAttribute('aria-label') || 'value';
    button.textContent = ok ? 'Copied' : 'Copy';
    if (status) status.textContent = ok ? capitalize(label.replace(/^Copy /, '')) + ' copied to the clipboard.' : 'Copying failed: select the text and copy it by hand.';
    if (ok) setTimeout(function () { button.textContent = 'Copy'; }, 2000);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(value).then(function () { done(true); }, function () { done(fallback(source)); });
  } else {
    done(fallback(source));
  }
  function fallback(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    if (!sel) return false;
    sel.removeAllRanges();
    sel.addRange(range);
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    return ok;
  }
});
`;
