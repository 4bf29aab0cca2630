/*
 * Dashboard: the answer to "is my NAS OK?".
 *
 * Top to bottom: the headline (OK, or what needs attention worst first, each with its fix:
 * the pattern, the alert, "Ask Co-Pilot" with the evidence), a card per disk (Scrutiny's
 * reading: verdict, temperature with its history, the attributes that predict failure, the
 * last self-test, power state), a card per filesystem (usage history and the forecast line
 * to the day it fills), history charts with a time-range picker (the store's tiers, averaged
 * server-side), then health, RAID, services and network (virtual interfaces hidden unless asked).
 * The daemon judges (findings, alerts, forecasts); the page only shows its verdicts.
 * Each card loads on its own, so one failing call shows its own message, not a blank page.
 * Charts are small inline SVGs: exact axes (one label per tick), nothing cut, testable.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  var HOUR = 3600, DAY = 86400;
  /** The time-range picker: seconds back and seconds per averaged point (0: as stored). */
  var RANGES = [
    {id: '1h', text: '1 h', since: HOUR, step: 0},
    {id: '24h', text: '24 h', since: DAY, step: 300},
    {id: '7d', text: '7 d', since: 7 * DAY, step: 1800},
    {id: '30d', text: '30 d', since: 30 * DAY, step: HOUR}
  ];
  /** The SMART attributes that predict failure (Backblaze's and Scrutiny's short list) and power-on time. */
  var ATA_ATTRS = [[5, 'Reallocated sectors'], [197, 'Pending sectors'], [198, 'Offline uncorrectable'],
    [199, 'UDMA CRC errors'], [9, 'Power-on hours']];
  var NVME_ATTRS = [['media_errors', 'Media errors'], ['percentage_used', 'Wear (% used)'], ['available_spare', 'Spare (%)'],
    ['critical_warning', 'Critical warning']];
  var PALETTE = ['#1e6fd9', '#d9480f', '#2b8a3e', '#9c36b5', '#e8590c', '#0b7285', '#5c940d', '#c2255c'];
  var SEV_RANK = {info: 1, warning: 2, critical: 3};

  function card(title, itemId, extra) {
    return Ext.apply({
      xtype: 'panel', title: title, itemId: itemId, cls: 'ocp-card', columnWidth: 0.5,
      margin: '0 8 8 0', bodyPadding: 8, minHeight: 90, html: '<div class="ocp-muted">Loading…</div>'
    }, extra || {});
  }

  function table(headers, rows, empty) {
    if (!rows.length) { return '<div class="ocp-muted">' + C.h(empty || 'None.') + '</div>'; }
    return '<table class="ocp-table"><thead><tr>' + headers.map(function (h) { return '<th>' + C.h(h) + '</th>'; }).join('') +
      '</tr></thead><tbody>' + rows.map(function (r) { return '<tr>' + r.map(function (c) { return '<td>' + c + '</td>'; }).join('') + '</tr>'; }).join('') +
      '</tbody></table>';
  }

  function source(status, name) {
    var s = status && status.sources && status.sources[name];
    return {status: s ? s.status : 'unavailable', reason: s ? s.reason : 'not collected', data: (s && s.data) || {}};
  }

  function sourceNote(src, what) {
    if (src.status === 'ok') { return ''; }
    return '<div class="ocp-muted">' + C.h(what) + ': ' + C.h(src.status) + (src.reason ? ' — ' + C.h(src.reason) : '') + '</div>';
  }

  function ago(ts) {
    if (!ts) { return 'never'; }
    var s = Math.max(0, Date.now() / 1000 - ts);
    if (s < 90) { return 'just now'; }
    if (s < 90 * 60) { return Math.round(s / 60) + ' min ago'; }
    if (s < 36 * HOUR) { return Math.round(s / HOUR) + ' h ago'; }
    return Math.round(s / DAY) + ' days ago';
  }

  function day(ts) { return Ext.Date.format(new Date(ts * 1000), 'D j M Y'); }

  /* ---------------- charts (inline SVG) ---------------- */

  var TICK_STEPS = [5 * 60, 15 * 60, 30 * 60, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

  /** Time ticks on local-time boundaries, at most `most`, each label once (no doubled labels). */
  function timeTicks(x0, x1, most) {
    var span = x1 - x0, step = TICK_STEPS[TICK_STEPS.length - 1];
    for (var i = 0; i < TICK_STEPS.length; i++) { if (span / TICK_STEPS[i] <= most) { step = TICK_STEPS[i]; break; } }
    var tz = -new Date(x0 * 1000).getTimezoneOffset() * 60;
    var fmt = step >= DAY ? 'j M' : (span > DAY ? 'j M H:i' : 'H:i');
    var ticks = [], seen = {};
    for (var t = Math.ceil((x0 + tz) / step) * step - tz; t <= x1; t += step) {
      var label = Ext.Date.format(new Date(t * 1000), fmt);
      if (!seen[label]) { seen[label] = 1; ticks.push({t: t, label: label}); }
    }
    return ticks;
  }

  /** A "nice" step (1, 2, 2.5 or 5 times a power of ten) for about `n` intervals over `span`. */
  function niceStep(span, n) {
    var raw = Math.max(span, 1e-9) / n, p = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10)), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }

  /** v with as many decimals as the step needs (0.25 steps: 0.25, 0.5, 0.75). */
  function numberLabel(v, step) {
    var digits = 0;
    while (digits < 3 && Math.abs(step * Math.pow(10, digits) - Math.round(step * Math.pow(10, digits))) > 1e-6) { digits++; }
    return Number(v.toFixed(digits)).toString();
  }

  /**
   * A line chart as SVG markup, drawn at the pixel width it gets (text stays 11 px at any width).
   * opts: {series: [{name, points: [[t, v]], colour, cls, dashed, data}], x0, x1, yMin, yMax (fixed ends,
   * else nice ends around the data), unit, height, width, kind, title, marks: [{t, v, label}]}.
   */
  C.dashChart = function (opts) {
    var W = Math.max(200, Math.round(opts.width || 600)), H = opts.height || 170, L = 42, R = 14, T = 8, B = 22;
    var all = [];
    opts.series.forEach(function (s) { all = all.concat(s.points); });
    var x0 = opts.x0, x1 = opts.x1;
    var ys = all.map(function (p) { return p[1]; });
    var lo = opts.yMin !== undefined ? opts.yMin : (ys.length ? Math.min.apply(null, ys) : 0);
    var hi = opts.yMax !== undefined ? opts.yMax : (ys.length ? Math.max.apply(null, ys) : 1);
    if (hi - lo < 1e-9) { hi = lo + 1; }
    var step = niceStep(hi - lo, 4);
    var yMin = opts.yMin !== undefined ? opts.yMin : Math.floor(lo / step) * step;
    var yMax = opts.yMax !== undefined ? opts.yMax : Math.ceil(hi / step) * step;
    if (yMax - yMin < step) { yMax = yMin + step; }
    function X(t) { return L + (t - x0) / Math.max(1, x1 - x0) * (W - L - R); }
    function Y(v) { return T + (1 - (v - yMin) / (yMax - yMin)) * (H - T - B); }
    var out = ['<svg class="copilot-dash-chart" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="' + C.h(opts.title || '') +
      '" data-kind="' + C.h(opts.kind || '') + '" data-points="' + all.length + '" data-x0="' + Math.round(x0) + '" data-x1="' + Math.round(x1) + '">'];
    for (var v = yMin; v <= yMax + step / 1000; v += step) {
      var y = Y(v);
      out.push('<line class="copilot-dash-grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + y.toFixed(1) + '" y2="' + y.toFixed(1) + '"/>');
      out.push('<text class="copilot-dash-ylabel" x="' + (L - 5) + '" y="' + (y + 4).toFixed(1) + '" text-anchor="end">' +
        C.h(numberLabel(v, step) + (opts.unit || '')) + '</text>');
    }
    timeTicks(x0, x1, Math.max(2, Math.min(7, Math.floor((W - L - R) / 75)))).forEach(function (tk, i, arr) {
      var x = X(tk.t), anchor = i === 0 && x < L + 30 ? 'start' : (i === arr.length - 1 && x > W - R - 30 ? 'end' : 'middle');
      out.push('<line class="copilot-dash-tick" x1="' + x.toFixed(1) + '" x2="' + x.toFixed(1) + '" y1="' + (H - B) + '" y2="' + (H - B + 4) + '"/>');
      out.push('<text class="copilot-dash-xlabel" x="' + x.toFixed(1) + '" y="' + (H - 6) + '" text-anchor="' + anchor + '">' + C.h(tk.label) + '</text>');
    });
    out.push('<line class="copilot-dash-axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '"/>');
    opts.series.forEach(function (s, i) {
      if (!s.points.length) { return; }
      var colour = s.colour || PALETTE[i % PALETTE.length];
      var d = s.points.map(function (p, j) { return (j ? 'L' : 'M') + X(p[0]).toFixed(1) + ' ' + Y(Math.max(yMin, Math.min(yMax, p[1]))).toFixed(1); }).join(' ');
      out.push('<path class="copilot-dash-line ' + (s.cls || '') + '" d="' + d + '" stroke="' + colour + '"' +
        (s.dashed ? ' stroke-dasharray="6 4"' : '') + (s.data || '') + '/>');
      if (s.points.length === 1) {
        out.push('<circle cx="' + X(s.points[0][0]).toFixed(1) + '" cy="' + Y(s.points[0][1]).toFixed(1) + '" r="3" fill="' + colour + '"/>');
      }
    });
    (opts.marks || []).forEach(function (m) {
      var x = X(m.t), y = Y(m.v);
      out.push('<circle class="copilot-dash-mark" cx="' + x.toFixed(1) + '" cy="' + y.toFixed(1) + '" r="4"/>');
      out.push('<text class="copilot-dash-marklabel" x="' + (x + 4).toFixed(1) + '" y="' + (y + 24).toFixed(1) + '" text-anchor="end">' + C.h(m.label) + '</text>');
    });
    out.push('</svg>');
    var legend = opts.series.map(function (s, i) {
      return s.name && s.points.length ? '<span class="copilot-dash-key"><i style="background:' + (s.colour || PALETTE[i % PALETTE.length]) + '"></i>' + C.h(s.name) + '</span>' : '';
    }).join('');
    return out.join('') + (legend ? '<div class="copilot-dash-legend">' + legend + '</div>' : '');
  };

  /* Charts are drawn into slots once the slot's width is known (and again when the panel resizes). */
  var slots = {}, slotSeq = 0;
  function chartSlot(opts) {
    slotSeq += 1;
    slots[slotSeq] = opts;
    return '<div class="copilot-dash-plot" data-slot="' + slotSeq + '"></div>';
  }

  function drawSlots(root) {
    if (!root) { return; }
    Array.prototype.forEach.call(root.querySelectorAll('.copilot-dash-plot[data-slot]'), function (el) {
      var opts = slots[el.getAttribute('data-slot')];
      if (opts && el.clientWidth) { el.innerHTML = C.dashChart(Ext.apply({}, {width: el.clientWidth}, opts)); }
    });
  }

  /** A sparkline (no axes) of one series; empty when there is nothing to draw. */
  function spark(points, cls) {
    if (!points || points.length < 2) { return '<span class="ocp-muted">no readings in the last 24 h</span>'; }
    var W = 120, H = 28, t0 = points[0][0], t1 = points[points.length - 1][0];
    var ys = points.map(function (p) { return p[1]; }), lo = Math.min.apply(null, ys), hi = Math.max.apply(null, ys);
    if (hi - lo < 2) { lo -= 1; hi += 1; }
    var d = points.map(function (p, i) {
      return (i ? 'L' : 'M') + ((p[0] - t0) / Math.max(1, t1 - t0) * W).toFixed(1) + ' ' + (2 + (1 - (p[1] - lo) / (hi - lo)) * (H - 4)).toFixed(1);
    }).join(' ');
    return '<svg class="copilot-dash-spark ' + (cls || '') + '" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H + '" data-points="' + points.length +
      '"><title>' + C.h(Math.round(lo) + '–' + Math.round(hi) + ' °C over the last 24 h') + '</title><path d="' + d + '"/></svg>';
  }

  /* ---------------- cards ---------------- */

  function attentionHtml(res) {
    var items = C.rows(res && res.items), unread = C.rows(res && res.unread);
    // "OK" only speaks for what could be read: the sources that could not be read are named
    var notRead = unread.length ? '<div class="copilot-dash-unread copilot-dash-warn-text">Could not read: ' + unread.map(function (u) {
      return C.h(u.source) + (u.reason ? ' (' + C.h(u.reason) + ')' : ' (' + C.h(u.status) + ')');
    }).join('; ') + '</div>' : '';
    if (!items.length) {
      return '<div class="copilot-dash-headline copilot-dash-ok">' + (unread.length ? 'Nothing needs attention in what could be read' : 'Everything is OK') + '</div>' +
        '<div class="ocp-muted">No open alerts and no warning or critical finding in the latest snapshot.</div>' + notRead;
    }
    var worst = items[0].severity === 'critical' ? 'copilot-dash-bad' : 'copilot-dash-warn';
    return '<div class="copilot-dash-headline ' + worst + '">' + items.length + (items.length === 1 ? ' thing needs' : ' things need') + ' attention</div>' +
      '<ol class="copilot-dash-attention">' + items.map(function (it, i) {
        var fix = it.pattern ? '<a href="#" class="copilot-dash-fix" data-fix="' + i + '" title="Open the fix in the knowledge base">How to fix: ' +
          C.h(it.pattern.title) + ' →</a>' : '<a href="#" class="copilot-dash-fix" data-ask="' + i + '">Ask Co-Pilot how to fix it →</a>';
        return '<li class="copilot-dash-item copilot-dash-sev-' + C.h(it.severity) + '" data-index="' + i + '">' +
          '<div class="copilot-dash-item-head">' + C.severityBadge(it.severity) + ' <b>' + C.h(it.title) + '</b> <span class="ocp-muted">' +
          C.h(it.subject) + (it.state === 'acknowledged' ? ' · acknowledged' : '') + ' · since ' + C.h(ago(it.since)) + '</span></div>' +
          '<div class="copilot-dash-links">' + fix +
          (it.alert_id ? '<a href="#" data-alert="' + C.h(it.alert_id) + '">Alert #' + C.h(it.alert_id) + '</a>' : '<span class="ocp-muted">not alerted yet</span>') +
          (it.pattern ? '<a href="#" data-ask="' + i + '">Ask Co-Pilot</a>' : '') + '</div></li>';
      }).join('') + '</ol>' + notRead;
  }

  /** The daemon's verdict for one disk: its worst finding, else SMART's own pass/fail. */
  function diskVerdict(d, findings) {
    var worst = null;
    (findings || []).forEach(function (f) {
      if (f && f.subject === d.device && (SEV_RANK[f.severity] || 0) >= 2 && (!worst || SEV_RANK[f.severity] > SEV_RANK[worst.severity])) { worst = f; }
    });
    if ((worst && worst.severity === 'critical') || d.passed === false) {
      return {text: 'Failing', cls: 'ocp-bad', why: worst ? worst.text : 'SMART overall health: FAILED'};
    }
    if (worst) { return {text: 'Warning', cls: 'ocp-warn', why: worst.text}; }
    if (d.passed === true) { return {text: 'Healthy', cls: 'ocp-ok', why: ''}; }
    return {text: d.error ? 'Unreadable' : 'Unknown', cls: '', why: d.error || 'no SMART status'};
  }

  function diskCard(d, findings, temps) {
    var v = diskVerdict(d, findings);
    var rows = [];
    if (d.nvme) {
      NVME_ATTRS.forEach(function (a) {
        var val = d.nvme[a[0]];
        if (val !== null && val !== undefined) { rows.push([a[1], val, a[0] === 'media_errors' || a[0] === 'critical_warning' ? val > 0 : false]); }
      });
      if (d.power_on_hours) { rows.push(['Power-on hours', d.power_on_hours, false]); }
    } else {
      var byId = {};
      (d.attributes || []).forEach(function (a) { byId[a.id] = a; });
      ATA_ATTRS.forEach(function (a) {
        var at = byId[a[0]];
        var raw = at ? at.raw : (a[0] === 9 ? d.power_on_hours : undefined);
        if (raw !== null && raw !== undefined) { rows.push([a[1] + (a[0] !== 9 ? ' (' + a[0] + ')' : ''), raw, a[0] !== 9 && raw > 0]); }
      });
    }
    var st = d.last_self_test;
    var selfTest = st ? C.h(st.type || 'self-test') + ': ' + (st.passed === false ? '<span class="ocp-text-bad">' + C.h(st.status) + '</span>' : C.h(st.status || '–')) +
      (st.lifetime_hours !== null && st.lifetime_hours !== undefined ? ' <span class="ocp-muted">at ' + C.h(st.lifetime_hours) + ' h' +
        (d.power_on_hours ? ' (' + C.h(Math.max(0, d.power_on_hours - st.lifetime_hours)) + ' h ago)' : '') + '</span>' : '') : '<span class="ocp-muted">none logged</span>';
    var hot = {critical: 'ocp-text-bad', warning: 'copilot-dash-warn-text'}[C.findingSeverity(findings, 'disk-hot', d.device)] || '';
    // a sleeping disk is never woken to be read: its values are its last reading, with their age
    var power = d.asleep ? C.badge('asleep', 'ocp-info') + ' <span class="ocp-muted">values from ' + C.h(ago(d.read_at)) + '</span>' :
      C.h(d.power_state || '–') + (d.read_at ? ' <span class="ocp-muted">read ' + C.h(ago(d.read_at)) + '</span>' : '');
    return '<div class="copilot-dash-card copilot-dash-disk' + (v.cls === 'ocp-bad' ? ' copilot-dash-failing' : '') + '" data-device="' + C.h(d.device) + '">' +
      '<div class="copilot-dash-card-head"><b>' + C.h(d.device) + '</b> ' + C.badge(v.text, v.cls + ' copilot-dash-verdict') + '</div>' +
      '<div class="copilot-dash-model">' + C.h(d.model || 'unknown model') + (d.protocol ? ' <span class="ocp-muted">· ' + C.h(d.protocol) + '</span>' : '') + '</div>' +
      (v.why ? '<div class="copilot-dash-why ' + (v.cls === 'ocp-bad' ? 'ocp-text-bad' : 'copilot-dash-warn-text') + '">' + C.h(v.why) + '</div>' : '') +
      '<div class="copilot-dash-temp"><span class="' + hot + '">' + (d.temperature_c === null || d.temperature_c === undefined ? '– °C' : C.h(d.temperature_c) + ' °C') +
      '</span> ' + spark(temps, hot ? 'copilot-dash-hot' : '') + '</div>' +
      '<table class="copilot-dash-attrs">' + rows.map(function (r) {
        return '<tr><td>' + C.h(r[0]) + '</td><td class="' + (r[2] ? 'ocp-text-bad' : '') + '">' + C.h(r[1]) + '</td></tr>';
      }).join('') + '</table>' +
      '<div>Last self-test: ' + selfTest + '</div>' +
      '<div>Power: ' + power + '</div></div>';
  }

  function fsCard(fs, forecast, findings, history, now) {
    var sev = C.findingSeverity(findings, 'filesystem-full', fs.mountpoint);
    var fc = '–', x1 = now, marks = [], series = [{name: fs.mountpoint + ' used %', points: history, colour: '#1e6fd9'}];
    if (forecast && forecast._error) {
      fc = '<span class="ocp-muted">not available</span>';
    } else if (forecast && forecast.full_at) {
      var cls = forecast.severity === 'critical' ? 'ocp-text-bad' : (forecast.severity === 'warning' ? 'copilot-dash-warn-text' : '');
      // coloured by the level the forecaster's guards allow; the reason says why (tooltip)
      fc = '<span class="' + cls + '" title="' + C.h(forecast.reason) + '">full on ' + C.h(day(forecast.full_at)) +
        ' (in ' + C.h(Math.max(0, Math.round(forecast.days_left))) + ' days)</span>';
      // the forecast line: from now's usage to 100 % on the day it fills (cut at 60 days ahead, the chart stays readable)
      var end = Math.min(forecast.full_at, now + 60 * DAY), pctNow = Number(fs.percent) || 0;
      var endPct = pctNow + (100 - pctNow) * (end - now) / Math.max(1, forecast.full_at - now);
      x1 = end;
      series.push({name: 'forecast', points: [[now, pctNow], [end, endPct]], colour: '#d9480f', dashed: true, cls: 'copilot-dash-forecast',
        data: ' data-full-at="' + Math.round(forecast.full_at) + '"'});
      if (end === forecast.full_at) { marks.push({t: end, v: 100, label: 'full ' + Ext.Date.format(new Date(end * 1000), 'j M')}); }
    } else if (forecast) {
      fc = '<span class="ocp-muted" title="' + C.h(forecast.reason) + '">' + C.h(forecast.status === 'insufficient_data' ? 'not enough history yet' : (forecast.status || 'not filling')) + '</span>';
    }
    var x0 = history.length ? Math.min(history[0][0], now - DAY) : now - DAY;
    return '<div class="copilot-dash-card copilot-dash-fs" data-mountpoint="' + C.h(fs.mountpoint) + '">' +
      '<div class="copilot-dash-card-head"><b>' + C.h(fs.mountpoint) + '</b> <span class="ocp-muted">' + C.h(fs.device) + ' · ' + C.h(fs.fstype) + '</span></div>' +
      (fs.mounted === false ? C.badge('not mounted', 'ocp-bad') : C.bar(fs.percent, C.pct(fs.percent) + ' of ' + C.bytes(fs.total), sev)) +
      '<div class="copilot-dash-forecast-text">Forecast: ' + fc + '</div>' +
      (history.length ? chartSlot({series: series, x0: x0, x1: Math.max(x1, x0 + HOUR), yMin: 0, yMax: 100, unit: '%', height: 150, marks: marks,
        kind: 'fs', title: 'Usage of ' + fs.mountpoint}) : '<div class="ocp-muted">No usage history yet.</div>') + '</div>';
  }

  C.createDashboard = function (app) {
    var range = RANGES[1];
    var showVirtual = false;
    var lastStatus = null;

    var panel = Ext.create('Ext.panel.Panel', {
      title: 'Dashboard', itemId: 'dashboard', layout: 'column', scrollable: 'y', bodyPadding: '8 0 0 8',
      cls: 'ocp-dashboard',
      tbar: [
        {text: 'Refresh', itemId: 'refresh', handler: function () { refresh(); }},
        '->', {xtype: 'tbtext', itemId: 'stamp', text: ''}
      ],
      items: [
        card('Needs attention', 'openAlerts', {columnWidth: 1}),
        card('Disks', 'disks', {columnWidth: 1}),
        card('Filesystems', 'filesystems', {columnWidth: 1}),
        card('Load, memory and temperature history', 'charts', {columnWidth: 1}),
        card('Health', 'health'),
        card('RAID', 'raid'),
        card('Services', 'services'),
        card('Network', 'network')
      ],
      listeners: {
        resize: function (p, w) {
          var narrow = w < 900;
          p.items.each(function (it) {
            if (['openAlerts', 'disks', 'filesystems', 'charts'].indexOf(it.itemId) < 0) { it.columnWidth = narrow ? 1 : 0.5; }
          });
          // charts are drawn at their pixel width: draw them again at the new one
          Ext.defer(function () { if (!p.destroyed && p.body) { drawSlots(p.body.dom); } }, 50);
        }
      }
    });

    function set(id, html) {
      var c = panel.down('#' + id);
      if (c && !c.destroyed) {
        Array.prototype.forEach.call(c.body ? c.body.dom.querySelectorAll('.copilot-dash-plot[data-slot]') : [], function (el) {
          delete slots[el.getAttribute('data-slot')];
        });
        c.update(html);
        if (c.body) { drawSlots(c.body.dom); c.updateLayout(); }
      }
    }

    function series(name, labels, since, step) {
      return app.call('getMetrics', {name: name, labels: labels || '', since: since, step: step || 0}).then(function (r) {
        return (r && r.points) || [];
      });
    }

    var attention = [];
    function loadAttention() {
      return app.call('getAttention', {}).then(function (res) {
        attention = C.rows(res && res.items);
        set('openAlerts', attentionHtml(res));
      }).catch(function (e) {
        attention = [];
        set('openAlerts', C.errorHtml('What needs attention is not available', e));
        app.handleError(e);
      });
    }

    function networkHtml(network) {
      var all = network.data.interfaces || [];
      var hidden = all.filter(function (i) { return i.virtual; }).length;
      var shown = showVirtual ? all : all.filter(function (i) { return !i.virtual; });
      return sourceNote(network, 'network') + table(['Interface', 'State', 'Speed', 'Addresses'], shown.map(function (i) {
        return [C.h(i.name) + (i.virtual ? ' <span class="ocp-muted">virtual</span>' : ''),
          i.up ? C.badge('up', 'ocp-ok') : C.badge('down', i.virtual ? '' : 'ocp-bad'),
          i.speed_mbps ? C.h(i.speed_mbps) + ' Mb/s' : '–',
          (i.addresses || []).map(function (a) { return C.h(a.address); }).join('<br>') || '–'];
      }), 'No network interfaces.') + (hidden ? '<a href="#" class="ocp-link copilot-dash-toggle" data-toggle-virtual="1">' +
        (showVirtual ? 'Hide the ' + hidden + ' virtual interfaces' : 'Show ' + hidden + ' virtual interfaces (containers, VMs, traffic shaping)') + '</a>' : '');
    }

    function loadStatus() {
      var now = Date.now() / 1000;
      return Promise.all([
        app.call('getStatus', {}),
        app.call('getForecasts', {}).catch(function (e) { return {_error: e}; })
      ]).then(function (res) {
        var status = lastStatus = res[0] || {}, forecasts = res[1];
        var fc = {};
        C.rows(forecasts).forEach(function (f) { if (f && f.mountpoint) { fc[f.mountpoint] = f; } });
        var storage = source(status, 'storage'), smart = source(status, 'smart'), services = source(status, 'services'),
          network = source(status, 'network'), omv = source(status, 'omv');
        var snap = status.snapshot || {};
        var findings = (status.summary && status.summary.findings) || [];
        var stamp = panel.down('#stamp');
        if (stamp) { stamp.setText('Snapshot ' + C.time(snap.taken_at) + (status.summary && status.summary.hostname ? ' · ' + C.h(status.summary.hostname) : '')); }

        var disks = smart.data.disks || [];
        var temps = Promise.all(disks.map(function (d) {
          return series('disk.temperature', 'device=' + d.device, DAY, 1800).catch(function () { return []; });
        })).then(function (all) {
          set('disks', sourceNote(smart, 'SMART') + (disks.length ? '<div class="copilot-dash-grid-cards">' +
            disks.map(function (d, i) { return diskCard(d, findings, all[i]); }).join('') + '</div>' : '<div class="ocp-muted">No disks with SMART.</div>'));
        });

        var filesystems = storage.data.filesystems || [];
        var usage = Promise.all(filesystems.map(function (fs) {
          return fs.mounted === false ? [] : series('fs.used_percent', 'mountpoint=' + fs.mountpoint, 7 * DAY, HOUR).catch(function () { return []; });
        })).then(function (all) {
          set('filesystems', sourceNote(storage, 'storage') + (filesystems.length ? '<div class="copilot-dash-grid-cards copilot-dash-wide">' +
            filesystems.map(function (fs, i) {
              return fsCard(fs, forecasts && forecasts._error ? forecasts : fc[fs.mountpoint], findings, all[i], now);
            }).join('') + '</div>' : '<div class="ocp-muted">No filesystems.</div>'));
        });

        set('raid', sourceNote(storage, 'storage') + table(['Array', 'Level', 'State', 'Devices'],
          (storage.data.raid || []).map(function (r) {
            return [C.h(r.name), C.h(r.level), r.degraded ? C.badge('degraded', 'ocp-bad') : C.badge(r.state || 'ok', 'ocp-ok') +
              (r.action ? ' ' + C.h(r.action) + ' ' + C.pct(r.progress_percent) : ''),
              C.h(r.devices_active) + '/' + C.h(r.devices_total)];
          }), 'No RAID arrays.'));

        var svc = (omv.data.services || []).map(function (s) {
          return [C.h(s.title || s.name), s.enabled ? 'enabled' : 'disabled',
            s.running ? C.badge('running', 'ocp-ok') : (s.enabled ? C.badge('stopped', 'ocp-bad') : C.badge('stopped'))];
        });
        if (!svc.length) {
          svc = (services.data.units || []).map(function (u) {
            return [C.h(u.name), u.enabled_in_omv === false ? 'disabled' : (u.enabled_in_omv ? 'enabled' : '–'),
              u.active_state === 'active' ? C.badge(u.sub_state || 'active', 'ocp-ok') : C.badge(u.active_state || 'unknown', u.enabled_in_omv ? 'ocp-bad' : '')];
          });
        }
        set('services', sourceNote(services, 'services') + table(['Service', 'In OMV', 'State'], svc, 'No services reported.'));
        set('network', networkHtml(network));
        return Promise.all([temps, usage]);
      }).catch(function (e) {
        ['filesystems', 'disks', 'raid', 'services', 'network'].forEach(function (id) { set(id, C.errorHtml('Status not available', e)); });
        app.handleError(e);
      });
    }

    function loadHealth() {
      return app.call('getHealth', {}).then(function (h) {
        h = h || {};
        var score = h.score;
        var cls = score >= 80 ? 'ocp-text-ok' : (score >= 50 ? 'ocp-text-warn' : 'ocp-text-bad');
        set('health', '<div class="ocp-score ' + cls + '">' + C.h(score === undefined ? '–' : score) + '<span class="ocp-score-of">/100</span> ' +
          (h.grade ? C.badge(h.grade) : '') + '</div>' +
          ((h.deductions || []).length ? '<ul class="ocp-list">' + h.deductions.map(function (d) {
            return '<li>' + (typeof d === 'string' ? C.h(d) : C.h(d.reason || d.title || d.rule || JSON.stringify(d)) + (d.points ? ' (−' + C.h(d.points) + ')' : '')) + '</li>';
          }).join('') + '</ul>' : '<div class="ocp-muted">No deductions.</div>'));
      }).catch(function (e) { set('health', C.errorHtml('Health score not available', e)); });
    }

    function pickerHtml() {
      return '<div class="copilot-dash-ranges" role="group" aria-label="Time range">' + RANGES.map(function (r) {
        return '<a href="#" role="button" class="copilot-dash-range' + (r === range ? ' copilot-dash-range-on' : '') + '" data-range="' + r.id + '" aria-pressed="' +
          (r === range) + '">' + C.h(r.text) + '</a>';
      }).join('') + '</div>';
    }

    var historySeq = 0;
    /** Load, CPU and memory, temperatures over the picked range, from the store's tiers averaged per step. */
    function loadHistory() {
      var mine = ++historySeq, r = range, now = Date.now() / 1000;
      var c = panel.down('#charts');
      if (c && c.body) {
        var picker = c.body.dom.querySelector('.copilot-dash-ranges');
        if (picker) { picker.outerHTML = pickerHtml(); } else { set('charts', pickerHtml() + '<div class="ocp-muted">Loading…</div>'); }
      }
      return app.call('getMetrics', {}).then(function (list) {
        var names = C.rows(list && list.series);
        var temps = names.filter(function (s) { return s.name === 'temp.celsius' || s.name === 'disk.temperature'; }).slice(0, 6);
        var wanted = [['load.1', ''], ['load.15', ''], ['cpu.percent', ''], ['mem.percent', '']].concat(temps.map(function (s) { return [s.name, s.labels]; }));
        return Promise.all(wanted.map(function (w) { return series(w[0], w[1], r.since, r.step).catch(function () { return []; }); })).then(function (pts) {
          if (mine !== historySeq) { return; }
          var x0 = now - r.since;
          function label(s) { return String(s.labels || s.name).replace(/^[a-z]+=/, '').replace(/^\/dev\//, 'disk '); }
          var charts = [
            chartSlot({kind: 'load', title: 'Load average', x0: x0, x1: now, yMin: 0, series: [
              {name: 'load (1 min)', points: pts[0]}, {name: 'load (15 min)', points: pts[1]}]}),
            chartSlot({kind: 'cpumem', title: 'CPU and memory', x0: x0, x1: now, yMin: 0, yMax: 100, unit: '%', series: [
              {name: 'CPU %', points: pts[2]}, {name: 'memory %', points: pts[3]}]}),
            temps.length ? chartSlot({kind: 'temp', title: 'Temperatures', x0: x0, x1: now, unit: '°', series: temps.map(function (s, i) {
              return {name: label(s), points: pts[4 + i]};
            })}) : '<div class="ocp-muted">No temperature sensors.</div>'
          ];
          set('charts', pickerHtml() + '<div class="copilot-dash-grid-cards copilot-dash-charts" data-range="' + r.id + '">' +
            ['Load average', 'CPU and memory', 'Temperatures (°C)'].map(function (t, i) {
              return '<div class="copilot-dash-card"><div class="copilot-dash-card-head"><b>' + C.h(t) + '</b></div>' + charts[i] + '</div>';
            }).join('') + '</div>');
        });
      }).catch(function (e) { set('charts', pickerHtml() + C.errorHtml('History not available', e)); });
    }

    /** Open the Assistant with the question typed in (not sent): the admin can add to it first. */
    function ask(question) {
      app.show('assistant', {question: question});
      var tabs = panel.up('tabpanel'), assistant = tabs && tabs.child('#assistant');
      var field = assistant && assistant.down('#question');
      if (field) {
        field.setValue(question);
        field.focus(false, 100);
      }
    }

    /** Open the Alerts tab on one alert (its grid selects it once loaded). */
    function openAlert(id) {
      app.show('alerts', {id: id, alert_id: id});
      var tabs = panel.up('tabpanel'), grid = tabs && tabs.child('#alerts');
      if (!grid || grid.navigate || !grid.getStore) { return; }
      var store = grid.getStore();
      var select = function () {
        var rec = store.findRecord('id', id, 0, false, true, true);
        if (rec) { grid.getSelectionModel().select(rec); }
      };
      store.on('datachanged', select, null, {single: true});
      select();
    }

    function refresh() {
      return Promise.all([loadAttention(), loadStatus(), loadHealth(), loadHistory()]).then(function () {
        panel.fireEvent('ocploaded', panel);
      });
    }

    panel.on('afterrender', function () {
      panel.body.on('click', function (ev, el) {
        ev.preventDefault();
        var d = el.dataset, it;
        if (d.goto) { app.show(d.goto); }
        else if (d.fix !== undefined && (it = attention[+d.fix]) && it.pattern) { app.show('knowledge', {pattern_id: it.pattern.pattern_id}); }
        else if (d.ask !== undefined && (it = attention[+d.ask])) { ask(it.question); }
        else if (d.alert) { openAlert(+d.alert); }
        else if (d.range) {
          range = RANGES.filter(function (r) { return r.id === d.range; })[0] || range;
          loadHistory().then(function () { panel.fireEvent('ocphistory', panel, range.id); });
        } else if (d.toggleVirtual) {
          showVirtual = !showVirtual;
          if (lastStatus) { set('network', networkHtml(source(lastStatus, 'network'))); }
        }
      }, null, {delegate: 'a'});
      refresh();
    }, null, {single: true});
    // a chart loaded while another tab showed had no width to be drawn at
    panel.on('activate', function () { if (panel.body) { drawSlots(panel.body.dom); } });
    panel.refresh = refresh;
    return panel;
  };
}());
