/*
 * Dashboard: health score, services, filesystems (usage + "full in N days"), disks
 * (SMART + temperature), RAID, network, open alerts, history charts (Ext charts).
 * Each card loads on its own, so one failing RPC shows its own message, not a blank page.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;

  function card(title, itemId, extra) {
    return Ext.apply({
      xtype: 'panel', title: title, itemId: itemId, cls: 'ocp-card', columnWidth: 0.5,
      margin: '0 8 8 0', bodyPadding: 8, minHeight: 90, html: '<div class="ocp-muted">Loading…</div>'
    }, extra || {});
  }

  function table(headers, rows) {
    if (!rows.length) { return '<div class="ocp-muted">None.</div>'; }
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

  C.createDashboard = function (app) {
    var chartStores = {
      sys: Ext.create('Ext.data.Store', {fields: [{name: 't', type: 'date'}, 'cpu', 'mem', 'swap']}),
      fs: Ext.create('Ext.data.Store', {fields: [{name: 't', type: 'date'}]})
    };
    var fsChart = null;

    function chart(store, series, title) {
      return {
        xtype: 'cartesian', store: store, height: 220, insetPadding: 12, title: title,
        legend: {docked: 'bottom'},
        axes: [
          {type: 'numeric', position: 'left', minimum: 0, maximum: 100, grid: true, title: '%'},
          {type: 'time', position: 'bottom', fields: ['t'], dateFormat: 'H:i'}
        ],
        series: series
      };
    }

    var panel = Ext.create('Ext.panel.Panel', {
      title: 'Dashboard', itemId: 'dashboard', layout: 'column', scrollable: 'y', bodyPadding: '8 0 0 8',
      cls: 'ocp-dashboard',
      tbar: [
        {text: 'Refresh', itemId: 'refresh', handler: function () { refresh(); }},
        '->', {xtype: 'tbtext', itemId: 'stamp', text: ''}
      ],
      items: [
        card('Health', 'health'),
        card('Open alerts', 'openAlerts'),
        card('Filesystems', 'filesystems', {columnWidth: 1}),
        card('Disks (SMART)', 'disks'),
        card('RAID', 'raid'),
        card('Services', 'services'),
        card('Network', 'network'),
        {xtype: 'panel', title: 'CPU and memory (last 6 h)', itemId: 'chartSys', cls: 'ocp-card', columnWidth: 0.5, margin: '0 8 8 0',
          layout: 'fit', height: 260, items: [chart(chartStores.sys, [
            {type: 'line', xField: 't', yField: 'cpu', title: 'CPU %', marker: false},
            {type: 'line', xField: 't', yField: 'mem', title: 'Memory %', marker: false}
          ])]},
        {xtype: 'panel', title: 'Filesystem usage (last 7 days)', itemId: 'chartFs', cls: 'ocp-card', columnWidth: 0.5, margin: '0 8 8 0',
          layout: 'fit', height: 260, html: '<div class="ocp-muted" style="padding:8px">Loading…</div>'}
      ],
      listeners: {
        resize: function (p, w) {
          var narrow = w < 900;
          p.items.each(function (it) {
            if (it.itemId !== 'filesystems') { it.columnWidth = narrow ? 1 : 0.5; }
          });
        }
      }
    });

    function set(id, html) {
      var c = panel.down('#' + id);
      if (c && !c.destroyed) { c.update(html); }
    }

    function loadStatus() {
      return Promise.all([
        app.call('getStatus', {}),
        app.call('getForecasts', {}).catch(function (e) { return {_error: e}; })
      ]).then(function (res) {
        var status = res[0] || {}, forecasts = res[1];
        var fc = {};
        C.rows(forecasts).forEach(function (f) { if (f && f.mountpoint) { fc[f.mountpoint] = f; } });
        var storage = source(status, 'storage'), smart = source(status, 'smart'), services = source(status, 'services'),
          network = source(status, 'network'), omv = source(status, 'omv');
        var snap = status.snapshot || {};
        var findings = (status.summary && status.summary.findings) || [];
        var stamp = panel.down('#stamp');
        if (stamp) { stamp.setText('Snapshot ' + C.time(snap.taken_at) + (status.summary && status.summary.hostname ? ' · ' + C.h(status.summary.hostname) : '')); }

        set('filesystems', sourceNote(storage, 'storage') + table(['Mount point', 'Device', 'Type', 'Usage', 'Size', 'Forecast'],
          (storage.data.filesystems || []).map(function (fs) {
            var f = fc[fs.mountpoint];
            var forecast = '–';
            if (forecasts && forecasts._error) {
              forecast = '<span class="ocp-muted">not available</span>';
            } else if (f) {
              if (f.days_left !== null && f.days_left !== undefined) {
                // coloured by the level the forecaster's guards allow; the reason says why (tooltip)
                forecast = '<span class="' + (f.severity === 'critical' ? 'ocp-text-bad' : (f.severity === 'warning' ? 'ocp-text-warn' : '')) +
                  '" title="' + C.h(f.reason) + '">full in ' + C.h(Math.round(f.days_left)) + ' days</span>';
              } else {
                forecast = C.h(f.reason || f.status || 'not filling');
              }
            }
            return [C.h(fs.mountpoint), C.h(fs.device), C.h(fs.fstype),
              fs.mounted === false ? C.badge('not mounted', 'ocp-bad') :
                C.bar(fs.percent, C.pct(fs.percent) + ' of ' + C.bytes(fs.total), C.findingSeverity(findings, 'filesystem-full', fs.mountpoint)),
              C.bytes(fs.total), forecast];
          })));

        set('disks', sourceNote(smart, 'SMART') + table(['Device', 'Model', 'Power', 'SMART', 'Temp.', 'Power-on'],
          (smart.data.disks || []).map(function (d) {
            var state = d.passed === true ? C.badge('passed', 'ocp-ok') : (d.passed === false ? C.badge('FAILED', 'ocp-bad') : C.badge(d.error ? 'unknown' : 'n/a'));
            var t = d.temperature_c;
            // a sleeping disk is never woken to be read: its values are its last reading, with their age
            var power = d.asleep ? C.badge('asleep', 'ocp-muted') + ' <span class="ocp-muted">' + (d.read_at ? 'read ' + C.time(d.read_at) : 'not read yet') + '</span>' :
              (d.power_state ? C.h(d.power_state) : '–');
            var hot = {critical: 'ocp-text-bad', warning: 'ocp-text-warn'}[C.findingSeverity(findings, 'disk-hot', d.device)] || '';
            return [C.h(d.device), C.h(d.model), power, state,
              t === null || t === undefined ? '–' : '<span class="' + hot + '">' + C.h(t) + ' °C</span>',
              d.power_on_hours ? C.h(d.power_on_hours) + ' h' : '–'];
          })));

        set('raid', sourceNote(storage, 'storage') + table(['Array', 'Level', 'State', 'Devices'],
          (storage.data.raid || []).map(function (r) {
            return [C.h(r.name), C.h(r.level), r.degraded ? C.badge('degraded', 'ocp-bad') : C.badge(r.state || 'ok', 'ocp-ok') +
              (r.action ? ' ' + C.h(r.action) + ' ' + C.pct(r.progress_percent) : ''),
              C.h(r.devices_active) + '/' + C.h(r.devices_total)];
          })));

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
        set('services', sourceNote(services, 'services') + table(['Service', 'In OMV', 'State'], svc));

        set('network', sourceNote(network, 'network') + table(['Interface', 'State', 'Speed', 'Addresses'],
          (network.data.interfaces || []).map(function (i) {
            return [C.h(i.name), i.up ? C.badge('up', 'ocp-ok') : C.badge('down', 'ocp-bad'),
              i.speed_mbps ? C.h(i.speed_mbps) + ' Mb/s' : '–',
              (i.addresses || []).map(function (a) { return C.h(a.address); }).join('<br>') || '–'];
          })));
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

    function loadAlerts() {
      // Open = firing or acknowledged: an acknowledged alert is still true (and still costs health points).
      return app.call('getAlerts', {start: 0, limit: 10, state: 'open'}).then(function (res) {
        var list = C.rows(res);
        set('openAlerts', list.length ? '<ul class="ocp-list">' + list.map(function (a) {
          return '<li>' + C.severityBadge(a.severity) + ' ' + C.h(a.title || a.rule) + ' <span class="ocp-muted">' + C.h(a.subject || '') +
            (a.state === 'acknowledged' ? ' · acknowledged' : '') + '</span></li>';
        }).join('') + '</ul>' + '<a href="#" class="ocp-link" data-goto="alerts">All alerts →</a>' : '<div class="ocp-text-ok">No open alerts.</div>');
      }).catch(function (e) { set('openAlerts', C.errorHtml('Alerts not available', e)); });
    }

    function series(name, labels, since) {
      return app.call('getMetrics', {name: name, labels: labels || '', since: since}).then(function (r) {
        return (r && r.points) || [];
      });
    }

    function merge(target, key, points) {
      points.forEach(function (p) {
        var t = Math.round(p[0] / 60) * 60;
        (target[t] = target[t] || {t: new Date(t * 1000)})[key] = p[1];
      });
    }

    function loadCharts() {
      var since6h = 6 * 3600;
      var sys = {};
      var p1 = Promise.all([series('cpu.percent', '', since6h), series('mem.percent', '', since6h)]).then(function (r) {
        merge(sys, 'cpu', r[0]);
        merge(sys, 'mem', r[1]);
        chartStores.sys.loadData(Object.keys(sys).sort().map(function (k) { return sys[k]; }));
      }).catch(function (e) {
        var c = panel.down('#chartSys');
        if (c) { c.removeAll(); c.update(C.errorHtml('History not available', e)); }
      });
      var p2 = app.call('getMetrics', {}).then(function (r) {
        var fsSeries = C.rows(r && r.series).filter(function (s) { return s.name === 'fs.used_percent'; }).slice(0, 4);
        return Promise.all(fsSeries.map(function (s) { return series('fs.used_percent', s.labels, 7 * 86400); })).then(function (all) {
          var rows = {}, keys = [];
          fsSeries.forEach(function (s, i) {
            var key = 'fs' + i;
            keys.push({key: key, title: String(s.labels || key).replace(/^.*mountpoint[=:]"?/, '').replace(/["}]/g, '')});
            merge(rows, key, all[i]);
          });
          var c = panel.down('#chartFs');
          if (!c || c.destroyed) { return; }
          c.update('');
          if (!keys.length) { c.update('<div class="ocp-muted" style="padding:8px">No filesystem history yet.</div>'); return; }
          chartStores.fs = Ext.create('Ext.data.Store', {fields: [{name: 't', type: 'date'}].concat(keys.map(function (k) { return k.key; })),
            data: Object.keys(rows).sort().map(function (k) { return rows[k]; })});
          if (fsChart) { fsChart.destroy(); }
          fsChart = c.add(chart(chartStores.fs, keys.map(function (k) {
            return {type: 'line', xField: 't', yField: k.key, title: C.h(k.title), marker: false};  // the legend renders HTML
          })));
        });
      }).catch(function (e) {
        var c = panel.down('#chartFs');
        if (c) { c.removeAll(); c.update(C.errorHtml('History not available', e)); }
      });
      return Promise.all([p1, p2]);
    }

    function refresh() {
      return Promise.all([loadStatus(), loadHealth(), loadAlerts(), loadCharts()]).then(function () {
        panel.fireEvent('ocploaded', panel);
      });
    }

    panel.on('afterrender', function () {
      panel.body.on('click', function (ev, el) {
        ev.preventDefault();
        app.show(el.getAttribute('data-goto'));
      }, null, {delegate: '[data-goto]'});
      refresh();
    }, null, {single: true});
    panel.refresh = refresh;
    return panel;
  };
}());
