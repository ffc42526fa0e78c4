// Sorting and filtering for the overview table of cookie-audit's HTML report. The table and the
// page sections are complete without this script; it only hides and reorders them. It reads the
// escaped data-* attributes and cell texts the report wrote, and never writes HTML.
(function () {
  'use strict';
  var table = document.getElementById('overview-table');
  var controls = document.getElementById('controls');
  if (!table || !controls || !table.tBodies.length) return;
  var body = table.tBodies[0];
  var search = document.getElementById('f-search');
  var coverage = document.getElementById('f-coverage');
  var severity = document.getElementById('f-severity');
  var rule = document.getElementById('f-rule');
  var shown = document.getElementById('shown');
  var none = document.getElementById('none-shown');
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  var items = Array.prototype.map.call(body.rows, function (tr, index) {
    var link = tr.cells[1].querySelector('a');
    var id = link ? link.getAttribute('href').slice(1) : '';
    return {
      tr: tr,
      index: index,
      section: id ? document.getElementById(id) : null,
      text: (tr.cells[1].textContent + ' ' + tr.cells[3].textContent).toLowerCase(),
      coverage: tr.getAttribute('data-coverage'),
      severity: Number(tr.getAttribute('data-severity')) || 0,
      rules: (tr.getAttribute('data-rules') || '').split(' ').filter(Boolean),
      unchecked: tr.classList.contains('unchecked'),
      keys: {}
    };
  });

  function matches(item, terms, cov, minSeverity, ruleId) {
    for (var i = 0; i < terms.length; i++) {
      if (item.text.indexOf(terms[i]) < 0) return false;
    }
    if (cov === '@unchecked' ? !item.unchecked : cov && item.coverage !== cov) return false;
    if (item.severity < minSeverity) return false;
    return !ruleId || item.rules.indexOf(ruleId) >= 0;
  }

  function apply() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var cov = coverage.value;
    var minSeverity = Number(severity.value) || 0;
    var ruleId = rule.value;
    var count = 0;
    items.forEach(function (item) {
      var ok = matches(item, terms, cov, minSeverity, ruleId);
      item.tr.classList.toggle('off', !ok);
      if (item.section) item.section.classList.toggle('off', !ok);
      if (ok) count++;
    });
    shown.textContent = count + ' of ' + items.length + ' pages shown';
    none.hidden = count > 0;
  }

  // Sort keys: a cell's data-value when it has one (a page that was not checked counts below
  // zero findings), else its text.
  function key(item, column, numeric) {
    if (!(column in item.keys)) {
      var cell = item.tr.cells[column];
      var raw = cell.hasAttribute('data-value') ? cell.getAttribute('data-value') : cell.textContent;
      item.keys[column] = numeric ? Number(raw) || 0 : raw.trim();
    }
    return item.keys[column];
  }

  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  function sortBy(column) {
    var th = headers[column];
    var numeric = th.getAttribute('data-sort') === 'num';
    // Counts read best largest first, text A to Z; the page number restores the report's order.
    var first = numeric && column !== 0 ? 'descending' : 'ascending';
    var current = th.getAttribute('aria-sort');
    var order = current === first ? (first === 'ascending' ? 'descending' : 'ascending') : first;
    headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', order);
    var sign = order === 'ascending' ? 1 : -1;
    var sorted = items.slice().sort(function (a, b) {
      var x = key(a, column, numeric);
      var y = key(b, column, numeric);
      var c = numeric ? x - y : collator.compare(x, y);
      return c !== 0 ? sign * c : a.index - b.index;
    });
    var fragment = document.createDocumentFragment();
    sorted.forEach(function (item) { fragment.appendChild(item.tr); });
    body.appendChild(fragment);
  }

  headers.forEach(function (th, column) {
    if (!th.hasAttribute('data-sort')) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    button.title = 'Sort by this column';
    while (th.firstChild) button.appendChild(th.firstChild);
    th.appendChild(button);
    button.addEventListener('click', function () { sortBy(column); });
  });

  search.addEventListener('input', apply);
  [coverage, severity, rule].forEach(function (select) {
    select.addEventListener('change', apply);
  });
  document.getElementById('f-reset').addEventListener('click', function () {
    search.value = '';
    coverage.value = '';
    severity.value = '0';
    rule.value = '';
    apply();
  });
  // A rule in the chart filters the overview by that rule.
  Array.prototype.forEach.call(document.querySelectorAll('a.rule-link'), function (a) {
    a.addEventListener('click', function () {
      rule.value = a.getAttribute('data-rule');
      apply();
    });
  });
  // A link to a page the filters hide shows that page's section anyway.
  function reveal() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.classList.contains('page')) target.classList.remove('off');
  }
  window.addEventListener('hashchange', reveal);

  controls.hidden = false;
  apply();
})();
