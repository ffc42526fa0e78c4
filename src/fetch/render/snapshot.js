// Serialises the rendered DOM for cookie-audit: open shadow roots are folded in as
// <div data-cookie-audit-shadow-root>, computed visibility becomes `hidden`, live checkbox
// state becomes `checked`, every control gets a handle and its rendered style, and fixed or
// sticky elements their share of the viewport. Controls get the handle in the live DOM too,
// so a later click can find them. `frameTag` carries a fresh random part for each snapshot: a
// handle left by an earlier snapshot, or one the page wrote itself, never matches a new one, and
// the page's own `data-cookie-audit-*` attributes are dropped so it cannot fake our marks.
(function (frameTag) {
  const VOID = new Set(['area','base','br','col','embed','hr','img','input','link','meta','source','track','wbr']);
  const RAW = new Set(['script','style','textarea','title','xmp','noscript']);
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const attr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  const vw = window.innerWidth || 1, vh = window.innerHeight || 1;
  let next = 0;
  const isControl = (el) => el.matches('button, a, input[type=button], input[type=submit], [role=button]');
  const rgba = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  function background(el) {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement || (e.getRootNode && e.getRootNode().host)) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  }
  function style(el) {
    const cs = getComputedStyle(el), r = el.getBoundingClientRect();
    const fg = rgba(cs.color) || [0, 0, 0, 1], bg = background(el);
    const l1 = lum(fg), l2 = lum(bg);
    const contrast = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw;
    return [r.width.toFixed(1), r.height.toFixed(1), parseFloat(cs.fontSize).toFixed(1), cs.color, `rgb(${bg[0]}, ${bg[1]}, ${bg[2]})`, contrast.toFixed(2), inView ? 1 : 0].join(';');
  }
  function hiddenByStyle(el) {
    const cs = getComputedStyle(el);
    return cs.display === 'none' || cs.visibility === 'hidden' || (cs.opacity === '0' && el.getClientRects().length === 0);
  }
  function ser(node, out) {
    if (node.nodeType === 3) { out.push(esc(node.data)); return; }
    if (node.nodeType !== 1) return;
    const tag = node.localName;
    out.push('<' + tag);
    for (const a of node.attributes) {
      if (a.name === 'checked' || a.name === 'hidden' || a.name.startsWith('data-cookie-audit-')) continue;
      out.push(' ' + a.name + '="' + attr(a.value) + '"');
    }
    if (tag === 'input' && node.checked) out.push(' checked');
    if (node.hasAttribute('hidden') || hiddenByStyle(node)) out.push(' hidden');
    if (isControl(node)) {
      const handle = frameTag + '-' + (next++);
      node.setAttribute('data-cookie-audit-id', handle);
      out.push(' data-cookie-audit-id="' + handle + '" data-cookie-audit-style="' + attr(style(node)) + '"');
    }
    const pos = getComputedStyle(node).position;
    if (pos === 'fixed' || pos === 'sticky') {
      const r = node.getBoundingClientRect();
      const share = Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0)) * Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0)) / (vw * vh);
      out.push(' data-cookie-audit-box="' + share.toFixed(3) + '"');
    }
    out.push('>');
    if (VOID.has(tag)) return;
    if (RAW.has(tag)) { out.push(tag === 'noscript' ? node.textContent : node.textContent.replace(/<\//g, '<\\/')); out.push('</' + tag + '>'); return; }
    if (node.shadowRoot) {
      out.push('<div data-cookie-audit-shadow-root="">');
      for (const c of node.shadowRoot.childNodes) ser(c, out);
      out.push('</div>');
    }
    for (const c of node.childNodes) ser(c, out);
    out.push('</' + tag + '>');
  }
  const out = [];
  try { ser(document.documentElement, out); } catch (e) { return document.documentElement.outerHTML; }
  return out.join('');
})
