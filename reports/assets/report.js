/* Observatoire des relais petite enfance: draws the charts of a report and
   makes tables sortable. Chart options come as JSON next to each chart;
   masked figures (secret statistique) carry no value, only "s". */
(function () {
  'use strict';
  var NNBSP = '\u202f';
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function num(v, dec) {
    var s = Number(v).toLocaleString('fr-FR', { minimumFractionDigits: dec, maximumFractionDigits: dec });
    return s.replace(/[\u00a0 ]/g, NNBSP);
  }
  function fmt(v, dec, unit, masked) {
    if (masked) { return 's'; }
    if (v === null || v === undefined || v === '-' || (typeof v === 'number' && isNaN(v))) { return 'n.d.'; }
    var s = num(v, dec);
    return unit === 'percent' ? s + NNBSP + '%' : s;
  }
  function isMasked(p) {
    return !!(p && p.data && typeof p.data === 'object' && p.data.s);
  }
  function tooltip(dec, unit) {
    return function (params) {
      var list = [].concat(params);
      if (!list.length) { return ''; }
      var p0 = list[0];
      var d0 = p0.data && typeof p0.data === 'object' ? p0.data : {};
      if (p0.seriesType === 'map') {
        return esc(d0.t || p0.name) + ' (' + esc(p0.name) + ')<br>' + fmt(p0.value, dec, unit, isMasked(p0));
      }
      if (p0.seriesType === 'scatter') {
        var v = p0.value || [];
        return esc(d0.t || p0.name) + '<br>Offre : ' + fmt(v[0], 1, 'rate') + '<br>Demande : ' + fmt(v[1], 1, 'rate');
      }
      var h = esc(p0.axisValueLabel !== undefined ? p0.axisValueLabel : p0.name);
      list.forEach(function (p) {
        var v = Array.isArray(p.value) ? p.value[1] : p.value;
        h += '<br>' + p.marker + esc(p.seriesName) + ' : ' + fmt(v, dec, unit, isMasked(p));
      });
      return h;
    };
  }
  function axisFmt(unit) {
    return function (v) {
      if (typeof v !== 'number') { return v; }
      var s = num(v, Math.abs(v) < 10 && v % 1 !== 0 ? 1 : 0);
      return unit === 'percent' ? s + NNBSP + '%' : s;
    };
  }
  function each(list, fn) { for (var i = 0; i < list.length; i++) { fn(list[i], i); } }
  function asList(x) { return x === undefined || x === null ? [] : [].concat(x); }

  var charts = [];
  function draw() {
    if (typeof echarts === 'undefined') { return; }
    var maps = window.RPE_MAPS || {};
    Object.keys(maps).forEach(function (k) {
      var m = maps[k];
      if (typeof m === 'string') { echarts.registerMap(k, { svg: m }); } else { echarts.registerMap(k, m); }
    });
    each(document.querySelectorAll('div.chart'), function (el) {
      var src = document.getElementById(el.id + '-opt');
      if (!src) { return; }
      var opt = JSON.parse(src.textContent);
      var dec = parseInt(el.getAttribute('data-dec') || '0', 10);
      var unit = el.getAttribute('data-unit') || 'count';
      opt.tooltip = opt.tooltip || {};
      opt.tooltip.formatter = tooltip(dec, unit);
      opt.tooltip.confine = true;
      each(asList(opt.xAxis).concat(asList(opt.yAxis)), function (ax) {
        if (ax && ax.type === 'value') { ax.axisLabel = ax.axisLabel || {}; ax.axisLabel.formatter = axisFmt(unit); }
      });
      each(asList(opt.visualMap), function (vm) { var f = axisFmt(unit); vm.text = [f(vm.max), f(vm.min)]; vm.itemHeight = 100; });
      if (opt.legend && !Array.isArray(opt.legend)) { opt.legend.type = 'scroll'; }
      var c = echarts.init(el, null, { renderer: 'canvas' });
      c.setOption(opt);
      charts.push(c);
    });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
    window.addEventListener('beforeprint', function () { charts.forEach(function (c) { c.resize(); }); });
  }

  function sortable() {
    each(document.querySelectorAll('table.sortable'), function (table) {
      each(table.querySelectorAll('thead th[data-col]'), function (th) {
        function go() {
          var col = parseInt(th.getAttribute('data-col'), 10);
          var asc = th.getAttribute('aria-sort') !== 'ascending';
          each(table.querySelectorAll('thead th'), function (o) { if (o.hasAttribute('aria-sort')) { o.setAttribute('aria-sort', 'none'); } });
          th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[col] ? a.cells[col].getAttribute('data-v') : '';
            var y = b.cells[col] ? b.cells[col].getAttribute('data-v') : '';
            if (x === '' || x === null) { return (y === '' || y === null) ? 0 : 1; }
            if (y === '' || y === null) { return -1; }
            var nx = parseFloat(x), ny = parseFloat(y);
            var r = (!isNaN(nx) && !isNaN(ny) && String(nx) !== 'NaN' && /^-?[\d.e+-]+$/.test(x) && /^-?[\d.e+-]+$/.test(y)) ? nx - ny : x.localeCompare(y, 'fr');
            return asc ? r : -r;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        }
        th.addEventListener('click', go);
        th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
      });
    });
  }

  function start() { draw(); sortable(); }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
