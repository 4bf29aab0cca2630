/*
 * The Changes tab: before you press Apply (OMV's pending configuration change explained, with
 * OMV's own revert), before you upgrade (apt's simulated upgrade judged go / wait / no-go), and
 * the timeline of what changed before something broke (alerts, notes, configuration changes,
 * package updates, reboots). The daemon judges; this page only shows its answers.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  var h = C.h;

  function section(title, body) {
    return '<h3 class="ocp-chg-h">' + h(title) + '</h3>' + body;
  }

  function listOf(items, fn, empty) {
    if (!items || !items.length) { return '<div class="ocp-muted">' + h(empty || 'None.') + '</div>'; }
    return '<ul class="ocp-list">' + items.map(function (x) { return '<li>' + fn(x) + '</li>'; }).join('') + '</ul>';
  }

  function patternLink(id) {
    return id ? ' <a href="#" class="ocp-link" data-pattern="' + h(id) + '">pattern ' + h(id) + '</a>' : '';
  }

  /** Links inside a rendered body: a pattern opens in Knowledge. */
  function wireLinks(panel, app) {
    panel.on('afterrender', function () {
      panel.body.on('click', function (e, el) {
        if (el.getAttribute('data-pattern')) { e.preventDefault(); app.show('knowledge', {pattern_id: el.getAttribute('data-pattern')}); }
      }, null, {delegate: 'a'});
    }, null, {single: true});
  }

  /* ---------------- Pending: what OMV's Apply will do ---------------- */
  C.pendingHtml = function (r) {
    var out = '<div class="ocp-chg-summary ' + (r.pending ? 'ocp-chg-wait' : 'ocp-chg-go') + '">' + h(r.summary) + '</div>';
    (r.hand_edits || []).forEach(function (e) {
      out += '<div class="ocp-notice ocp-chg-handedit"><b>Hand edit will be lost:</b> ' + h(e.text || (e.file + ' was edited by hand')) +
        (e.text && e.text.indexOf(e.durable_way) >= 0 ? '' : '<br>Keep the edit the durable way: ' + h(e.durable_way) + '.') +
        patternLink(e.pattern_id) + '</div>';
    });
    if (!r.pending && !(r.revision_files || []).length) { return out; }
    out += section('Settings changed since the last Apply', listOf(r.changes, function (c) { return h(c.text); },
      'No setting differs from the last applied configuration (the module was marked dirty without a change, or OMV has no revision file).'));
    out += section('Modules Apply deploys', '<table class="ocp-table ocp-chg-modules"><thead><tr><th>Module</th><th>Salt state</th>' +
      '<th>Files it writes</th><th>Services</th></tr></thead><tbody>' + (r.modules || []).map(function (m) {
        var s = m.state;
        return '<tr><td><b>' + h(m.module) + '</b></td><td><code>omv-salt deploy run ' + h(m.module) + '</code>' +
          (m.note ? '<div class="ocp-muted">' + h(m.note) + '</div>' : '') + '</td><td>' +
          (s && s.files.length ? s.files.map(function (f) { return '<code>' + h(f) + '</code>'; }).join('<br>') : '–') + '</td><td>' +
          (s && s.services.length ? s.services.map(h).join(', ') : '–') + '</td></tr>';
      }).join('') + '</tbody></table>');
    out += section('Services restarted or reloaded', listOf(r.services, h, 'None named by the states.'));
    out += section('Generated files rewritten', listOf(r.files, function (f) { return '<code>' + h(f) + '</code>'; }, 'None named by the states.'));
    if (r.revert) {
      out += section('Undo instead', '<div>OMV\'s own revert (' + h(r.revert.ui) + ') brings back the configuration as last applied; ' +
        'nothing is deployed. Same from a shell: <code>' + h(r.revert.command) + '</code></div>');
    }
    return out;
  };

  function createPending(app) {
    var panel;
    function load() {
      panel.setLoading('Reading OMV\'s pending changes…');
      return app.call('getPendingChanges', {}).then(function (r) {
        panel.lastAnswer = r;
        panel.update(C.pendingHtml(r));
        panel.down('#revertBtn').setHidden(!r.revert);  // hidden, not greyed: nothing to undo
      }).catch(function (e) {
        panel.down('#revertBtn').setHidden(true);
        panel.update(C.errorHtml('Pending changes not available', e));
        app.handleError(e);
      }).then(function () { panel.setLoading(false); });
    }
    function revert() {
      Ext.Msg.confirm('Undo the configuration changes',
        'OMV will discard every unapplied configuration change (Config revertChanges) and keep the configuration as last applied. Continue?',
        function (btn) {
          if (btn !== 'yes') { return; }
          panel.setLoading('Reverting…');
          app.call('revertPendingChanges', {confirm: true}).then(function (r) {
            C.toast(r.message || 'OMV reverted the unapplied changes.');
          }).catch(function (e) { C.toast('Not reverted: ' + C.explain(e)); })
            .then(function () { panel.setLoading(false); return load(); });
        });
    }
    panel = Ext.create('Ext.panel.Panel', {
      title: 'Pending', itemId: 'pendingView', scrollable: true, bodyPadding: 10, cls: 'ocp-detail ocp-chg',
      html: '<div class="ocp-muted">Loading…</div>',
      tbar: [{text: 'Refresh', itemId: 'refreshPending', handler: function () { load(); }},
        {text: 'Undo changes (OMV\'s revert)…', itemId: 'revertBtn', hidden: true, handler: revert}]
    });
    panel.on('afterrender', function () { load(); }, null, {single: true});
    panel.on('activate', function () { if (panel.rendered) { load(); } });
    wireLinks(panel, app);
    panel.reload = load;
    return panel;
  }

  /* ---------------- Preflight: before an upgrade ---------------- */
  var LEVEL = {'no-go': 'ocp-bad', wait: 'ocp-warn', info: 'ocp-info', go: 'ocp-ok'};

  C.preflightHtml = function (r) {
    var verdict = String(r.verdict || 'wait');
    var out = '<div class="ocp-chg-verdict ocp-chg-' + h(verdict.replace('-', '')) + '" data-verdict="' + h(verdict) + '">' +
      '<span class="ocp-chg-verdict-word">' + h(verdict.toUpperCase()) + '</span> ' + h(String(r.summary || '').replace(/^[A-Z-]+:\s*/, '')) + '</div>';
    var rank = {'no-go': 0, wait: 1, info: 2};  // what stops the upgrade first, what merely happens last
    var reasons = (r.reasons || []).slice().sort(function (a, b) { return (rank[a.level] || 0) - (rank[b.level] || 0); });
    out += section('Reasons', listOf(reasons, function (x) {
      return C.badge(x.level, LEVEL[x.level]) + ' ' + h(x.text) + patternLink(x.pattern_id);
    }, 'Nothing found against this upgrade.'));
    var t = r.touches || {};
    var touched = ['kernel', 'dkms', 'plugins', 'network', 'docker', 'web_ui'].filter(function (k) { return (t[k] || []).length; });
    if (touched.length) {
      out += section('What it touches', '<table class="ocp-table">' + touched.map(function (k) {
        return '<tr><th>' + h(k.replace('_', ' ')) + '</th><td>' + t[k].map(h).join(', ') + '</td></tr>';
      }).join('') + '</table>');
    }
    out += section('Packages (' + (r.packages || []).length + ')', (r.packages || []).length ?
      '<table class="ocp-table ocp-chg-packages"><thead><tr><th>Package</th><th>Installed</th><th>New</th><th>From</th></tr></thead><tbody>' +
      r.packages.map(function (p) {
        return '<tr><td>' + h(p.name) + '</td><td>' + h(p.old || 'new') + '</td><td>' + h(p.new) + '</td><td class="ocp-muted">' + h(p.origin) + '</td></tr>';
      }).join('') + '</tbody></table>' : '<div class="ocp-muted">apt has nothing to upgrade.</div>');
    if ((r.removed || []).length) { out += section('Removed', listOf(r.removed, h)); }
    out += section('Rollback plan', '<ol class="ocp-list">' + (r.rollback || []).map(function (s) { return '<li>' + h(s) + '</li>'; }).join('') + '</ol>');
    return out;
  };

  function createPreflight(app) {
    var panel, seq = 0;
    function run() {
      var release = panel.down('#releaseToggle').getValue();
      var mine = ++seq;
      panel.setLoading('Simulating the ' + (release ? 'release ' : '') + 'upgrade with apt (nothing is installed)…');
      app.call('getUpgradePreflight', {release: release ? 'true' : 'false'}).then(function (r) {
        if (mine === seq) { panel.update(C.preflightHtml(r)); }
      }).catch(function (e) {
        if (mine === seq) { panel.update(C.errorHtml('Preflight not available', e)); }
        app.handleError(e);
      }).then(function () { if (mine === seq) { panel.setLoading(false); } });
    }
    panel = Ext.create('Ext.panel.Panel', {
      title: 'Upgrade preflight', itemId: 'preflightView', scrollable: true, bodyPadding: 10, cls: 'ocp-detail ocp-chg',
      html: '<div class="ocp-muted">Checks apt\'s simulated upgrade (<code>apt-get -s dist-upgrade</code>, what Update Management runs) ' +
        'against this box: free space, kernel and DKMS modules, plugins against the core, unapplied changes, RAID, the last ' +
        'configuration backup. Nothing is installed. Press "Check the upgrade".</div>',
      tbar: [{text: 'Check the upgrade', itemId: 'runPreflight', handler: run},
        {xtype: 'checkbox', itemId: 'releaseToggle', boxLabel: 'Release upgrade (omv-release-upgrade)',
          listeners: {change: function () { if (seq) { run(); } }}}]
    });
    wireLinks(panel, app);
    panel.run = run;
    return panel;
  }

  /* ---------------- Timeline: what changed before it broke ---------------- */
  var KINDS = [['alert', 'Alerts'], ['note', 'Notes'], ['config', 'Configuration'], ['package', 'Packages'], ['reboot', 'Reboots']];
  var KIND_CLS = {alert: 'ocp-bad', note: 'ocp-info', config: 'ocp-warn', package: '', reboot: 'ocp-ok'};

  function eventDetail(e) {
    var d = e.detail || {};
    if (e.kind === 'config' && (d.changes || []).length) {
      return '<details><summary>' + d.total + ' setting(s)' + (d.total > d.changes.length ? ', first ' + d.changes.length : '') + '</summary>' +
        '<table class="ocp-table ocp-chg-diff">' + d.changes.map(function (c) {
          var was = c.old === null ? '(unset)' : c.old, now = c.new === null ? '(removed)' : c.new;
          return '<tr data-change="' + h(c.change) + '"><td><code>' + h(c.path) + '</code></td><td><span class="ocp-text-bad">' + h(was) +
            '</span> → <span class="ocp-text-ok">' + h(now) + '</span></td></tr>';
        }).join('') + '</table></details>';
    }
    if (e.kind === 'package') {
      return '<details><summary>' + h(d.command || 'apt') + (d.requested_by ? ' · ' + h(d.requested_by) : '') + '</summary>' +
        (d.error ? '<div class="ocp-text-bad">' + h(d.error) + '</div>' : '') +
        '<table class="ocp-table">' + (d.packages || []).map(function (p) {
          return '<tr><td>' + h(p.action) + '</td><td>' + h(p.name) + '</td><td>' + h(p.old || '') + (p.old && p.new ? ' → ' : '') + h(p.new || '') + '</td></tr>';
        }).join('') + '</table></details>';
    }
    if (e.kind === 'alert' && d.message) { return '<div class="ocp-muted">' + h(d.subject) + ' · ' + h(d.message) + '</div>'; }
    return '';
  }

  C.timelineHtml = function (r) {
    var events = r.events || [];
    if (!events.length) { return '<div class="ocp-muted">Nothing recorded in this range.</div>'; }
    var out = '<div class="ocp-muted">' + r.total + ' event(s), newest first' + (r.truncated ? ' (the newest ' + events.length + ' shown)' : '') + '.</div>';
    return out + '<table class="ocp-table ocp-chg-timeline"><tbody>' + events.map(function (e) {
      return '<tr class="ocp-tl-row" data-kind="' + h(e.kind) + '" data-at="' + h(e.at) + '"><td class="ocp-tl-when">' + C.time(e.at) + '</td><td>' +
        C.badge(e.kind, KIND_CLS[e.kind]) + '</td><td>' + (e.severity === 'critical' || e.severity === 'warning' ? C.severityBadge(e.severity) + ' ' : '') +
        h(e.title) + eventDetail(e) + '</td></tr>';
    }).join('') + '</tbody></table>';
  };

  function createTimeline(app) {
    var panel, seq = 0;
    function load() {
      var kinds = KINDS.filter(function (k) { return panel.down('#kind-' + k[0]).getValue(); }).map(function (k) { return k[0]; });
      var mine = ++seq;
      if (!kinds.length) { panel.update('<div class="ocp-muted">Pick at least one kind of event.</div>'); return Promise.resolve(); }
      panel.setLoading(true);
      var params = {since: panel.down('#range').getValue(), kinds: kinds.join(','), limit: 500};
      if (panel.until) { params.until = Math.round(panel.until); }
      return app.call('getTimeline', params).then(function (r) {
        if (mine === seq) { panel.update(C.timelineHtml(r)); }
      }).catch(function (e) {
        if (mine === seq) { panel.update(C.errorHtml('Timeline not available', e)); }
        app.handleError(e);
      }).then(function () { if (mine === seq) { panel.setLoading(false); } });
    }
    var ranges = Ext.create('Ext.data.Store', {fields: ['v', 't'], data: [{v: 86400, t: 'Last 24 hours'}, {v: 7 * 86400, t: 'Last 7 days'},
      {v: 30 * 86400, t: 'Last 30 days'}, {v: 90 * 86400, t: 'Last 90 days'}]});
    panel = Ext.create('Ext.panel.Panel', {
      title: 'Timeline', itemId: 'timelineView', scrollable: true, bodyPadding: 10, cls: 'ocp-detail ocp-chg',
      html: '<div class="ocp-muted">Loading…</div>',
      tbar: {enableOverflow: true, items: [{xtype: 'combo', itemId: 'range', store: ranges, valueField: 'v', displayField: 't', value: 7 * 86400,
        editable: false, queryMode: 'local', width: 140, listeners: {select: function () { load(); }}}].concat(KINDS.map(function (k) {
        return {xtype: 'checkbox', itemId: 'kind-' + k[0], boxLabel: k[1], value: true, margin: '0 6 0 6', listeners: {change: function () { load(); }}};
      })).concat([{text: 'Refresh', handler: function () { load(); }},
        {text: 'Up to now', itemId: 'untilNow', hidden: true, handler: function () { panel.showUntil(null); }}])}
    });
    /** The range ending at ``until`` (a Unix time; null: now) — "what changed before it broke?" from an alert. */
    panel.showUntil = function (until) {
      panel.until = until || null;
      var b = panel.down('#untilNow');
      b.setText(until ? 'Ending ' + C.time(until) + ' · show up to now' : 'Up to now');
      b.setHidden(!until);
      if (panel.rendered) { load(); }
    };
    panel.on('afterrender', function () { load(); }, null, {single: true});
    panel.on('activate', function () { if (panel.rendered) { load(); } });
    panel.reload = load;
    return panel;
  }

  C.createChanges = function (app) {
    var panel = Ext.create('Ext.tab.Panel', {
      title: 'Changes', itemId: 'changes', cls: 'ocp-changes',
      items: [createPending(app), createPreflight(app), createTimeline(app)]
    });
    /** app.show('changes', {view: 'pending'|'preflight'|'timeline', until: unixTime}) — e.g. an alert's "what changed before?". */
    panel.navigate = function (opts) {
      var sub = {pending: '#pendingView', preflight: '#preflightView', timeline: '#timelineView'}[opts && opts.view];
      if (opts && opts.view === 'timeline') { panel.down('#timelineView').showUntil(opts.until || null); }
      if (sub) { panel.setActiveTab(panel.down(sub)); }
    };
    return panel;
  };
}());
