/*
 * Knowledge, Diagnostics, Traces, Alerts and History pages. Lists are ExtJS grids fed
 * from the RPC method table; details are rendered HTML (escaped) next to them.
 */
(function () {
  'use strict';
  var Ext = window.Ext6;
  var C = window.OmvCopilot;
  var h = C.h;

  function detailPanel(itemId, empty) {
    return Ext.create('Ext.panel.Panel', {
      region: 'east', split: true, width: '50%', minWidth: 280, scrollable: 'y', bodyPadding: 10, itemId: itemId, cls: 'ocp-detail',
      html: '<div class="ocp-muted">' + h(empty) + '</div>'
    });
  }

  function listOf(items, fn) {
    items = items || [];
    if (!items.length) { return '<div class="ocp-muted">None.</div>'; }
    return '<ul class="ocp-list">' + items.map(function (x, i) { return '<li>' + fn(x, i) + '</li>'; }).join('') + '</ul>';
  }

  function text(x) {
    return typeof x === 'string' ? h(x) : h(x && (x.text || x.description || x.name || JSON.stringify(x)));
  }

  /** Show a message (e.g. why a list could not load) in place of a grid's rows. */
  C.gridMessage = function (grid, html) {
    if (!grid || grid.destroyed) { return; }
    var view = grid.getView();
    view.emptyText = '<div class="' + Ext.baseCSSPrefix + 'grid-empty">' + html + '</div>';
    view.deferEmptyText = false;
    grid.getStore().removeAll();
    view.refresh();
  };

  /* ---------------- Knowledge ---------------- */
  C.createKnowledge = function (app) {
    var store = Ext.create('Ext.data.Store', {fields: ['pattern_id', 'title', 'category', 'confidence', 'score', 'source', 'overrides_shipped']});
    var detail = detailPanel('patternDetail', 'Select a pattern to see its symptoms, diagnostics and solutions.');
    var current = null, currentPattern = null;

    /** The badge of an admin's edit (local overlay) next to a pattern's title. */
    function originBadge(p) {
      if (!p || p.source !== 'local') { return ''; }
      return ' ' + C.badge(p.overrides_shipped ? 'local (edited)' : 'local', 'ocp-info ocp-local');
    }

    /** Open the YAML editor (its script loads on first use); afterwards reload the grid and the detail. */
    function edit(p) {
      C.loadScript('copilot-pattern-editor.js').then(function () {
        C.openPatternEditor(app, panel, p ? {id: p.pattern_id, yaml: p.yaml, source: p.source, overrides_shipped: p.overrides_shipped} : {},
          function (id, removed) {
            load(grid.down('#search').getValue()).then(function () {
              var rec = removed ? null : store.findRecord('pattern_id', id, 0, false, true, true);
              if (rec) { grid.getSelectionModel().select(rec); }
              if (removed) { current = null; detail.update('<div class="ocp-muted">Pattern ' + h(id) + ' was deleted.</div>'); } else { show(id); }
            });
          });
      }).catch(function (e) { C.toast('The pattern editor could not load: ' + (e.message || e) + '. Reload the page and retry.'); });
    }

    function load(search) {
      var params = {start: 0, limit: 500};
      if (search) { params.search = search; }
      grid.setLoading(true);
      return app.call('getPatterns', params).then(function (r) {
        store.loadData(C.rows(r).map(function (p) {
          return {pattern_id: p.pattern_id || p.id, title: p.title, category: p.category, confidence: p.confidence, score: p.score,
            source: p.source, overrides_shipped: p.overrides_shipped};
        }));
        grid.down('#count').setText((r && r.total !== undefined ? r.total : store.getCount()) + ' patterns');
      }).catch(function (e) {
        store.removeAll();
        detail.update(C.errorHtml('Patterns not available', e));
        app.handleError(e);
      }).then(function () { grid.setLoading(false); });
    }

    function show(id) {
      current = id;
      detail.update('<div class="ocp-muted">Loading ' + h(id) + '…</div>');
      return app.call('getPattern', {id: id}).then(function (p) {
        p = (p && p.pattern) || p || {};
        if (current !== id) { return; }
        currentPattern = p;
        detail.update('<h3>' + h(p.title || id) + '</h3>' +
          '<div>' + C.badge(p.pattern_id || id) + ' ' + (p.category ? C.badge(p.category) : '') +
          (p.confidence !== undefined ? ' ' + C.badge('confidence ' + p.confidence) : '') + originBadge(p) +
          (p.yaml !== undefined ? ' <a href="#" class="ocp-btn" data-edit="' + h(p.pattern_id || id) + '">Edit</a>' : '') + '</div>' +
          '<h4>Symptoms</h4>' + listOf(p.symptoms, text) +
          '<h4>Diagnostics</h4>' + listOf(p.diagnostics, function (d) {
            return '<b>' + h(d.name) + '</b> <code>' + h(d.command || (d.argv || []).join(' ')) + '</code>' +
              (d.expected_output ? '<div class="ocp-muted">expects: ' + h(d.expected_output) + '</div>' : '');
          }) +
          '<p><a href="#" class="ocp-btn" data-run="' + h(p.pattern_id || id) + '">Run diagnostics</a></p>' +
          '<h4>Solutions</h4>' + listOf(p.solutions, function (s) {
            return (s.priority ? C.badge('#' + s.priority) + ' ' : '') + (s.risk ? C.severityBadge(s.risk) + ' ' : '') + '<b>' + h(s.action) + '</b>' +
              (s.command ? '<div><code>' + h(s.command) + '</code></div>' : '') + (s.explanation ? '<div class="ocp-muted">' + h(s.explanation) + '</div>' : '');
          }) +
          ((p.related_patterns || []).length ? '<h4>Related</h4>' + listOf(p.related_patterns, text) : '') +
          ((p.references || []).length ? '<h4>References</h4>' + listOf(p.references, text) : '') +
          '<div class="ocp-feedback">Was this pattern helpful? <a href="#" class="ocp-thumb" data-feedback="up">Yes</a> <a href="#" class="ocp-thumb" data-feedback="down">No</a></div>');
      }).catch(function (e) { detail.update(C.errorHtml('Pattern ' + id + ' not available', e)); });
    }

    var grid = Ext.create('Ext.grid.Panel', {
      region: 'center', store: store, itemId: 'patternGrid', emptyText: 'No patterns.',
      columns: [
        {text: 'ID', dataIndex: 'pattern_id', width: 110, renderer: h},
        {text: 'Title', dataIndex: 'title', flex: 1, renderer: function (v, meta, rec) { return h(v) + originBadge(rec.data); }},
        {text: 'Category', dataIndex: 'category', width: 110, renderer: h}
      ],
      tbar: [
        {xtype: 'textfield', itemId: 'search', emptyText: 'Search patterns…', width: 260, enableKeyEvents: true,
          listeners: {specialkey: function (f, e) { if (e.getKey() === e.ENTER) { load(f.getValue()); } }}},
        {text: 'Search', handler: function () { load(grid.down('#search').getValue()); }},
        {text: 'Clear', handler: function () { grid.down('#search').setValue(''); load(''); }},
        {text: 'New pattern', itemId: 'newPattern', tooltip: 'Write a new pattern (saved in the local patterns directory)', handler: function () { edit(null); }},
        '->', {xtype: 'tbtext', itemId: 'count', text: ''}
      ],
      listeners: {selectionchange: function (sm, sel) { if (sel.length) { show(sel[0].get('pattern_id')); } }}
    });

    var panel = Ext.create('Ext.panel.Panel', {title: 'Knowledge', itemId: 'knowledge', layout: 'border', items: [grid, detail]});
    panel.on('afterrender', function () {
      detail.body.on('click', function (ev, el) {
        ev.preventDefault();
        if (el.dataset.run) { app.show('diagnostics', {pattern_id: el.dataset.run}); return; }
        if (el.dataset.edit && currentPattern) { edit(currentPattern); return; }
        if (el.dataset.feedback && current) {
          app.call('feedback', {pattern_id: current, helpful: el.dataset.feedback === 'up'}).then(function () {
            el.parentNode.innerHTML = 'Thanks for the feedback.';
          }).catch(function (e) { C.toast('Feedback not saved: ' + C.explain(e)); });
        }
      }, null, {delegate: 'a'});
      load('');
    }, null, {single: true});
    panel.navigate = function (opts) { if (opts && opts.pattern_id) { show(opts.pattern_id); } };
    return panel;
  };

  /* ---------------- Diagnostics ---------------- */
  /** A step is "passed" when its state is ok (probes/verdict.py: ok / problem / could_not_run). */
  C.stepPassed = function (s) { return C.stateOf(s) === 'ok'; };

  /** "2 ok · 1 problem found · 1 could not run" for a list of results. */
  C.stateSummary = function (list) {
    var n = {ok: 0, problem: 0, could_not_run: 0};
    list.forEach(function (s) { n[C.stateOf(s)] += 1; });
    var parts = [];
    if (n.ok) { parts.push('<span class="ocp-text-ok">' + n.ok + ' ok</span>'); }
    if (n.problem) { parts.push('<span class="ocp-text-bad">' + n.problem + ' problem' + (n.problem === 1 ? '' : 's') + ' found</span>'); }
    if (n.could_not_run) { parts.push('<span class="ocp-muted">' + n.could_not_run + ' could not run</span>'); }
    return '<div class="copilot-as-summary">' + (parts.join(' · ') || 'No checks.') + '</div>';
  };

  C.createDiagnostics = function (app) {
    var patterns = Ext.create('Ext.data.Store', {fields: ['pattern_id', 'title']});
    var steps = Ext.create('Ext.data.Store', {fields: ['name', 'argv', 'returncode', 'stdout', 'stderr', 'duration_s', 'timed_out', 'error',
      'matched_expected', 'passed', 'state', 'reason', 'reading']});
    var output = detailPanel('diagOutput', 'Run a pattern\'s diagnostics; select a step to see its output.');
    var running = false;
    var summary = '';  // the last run's "2 ok · 1 could not run", kept above each step's output

    var combo = Ext.create('Ext.form.field.ComboBox', {
      fieldLabel: 'Pattern', labelWidth: 55, width: 380, store: patterns, valueField: 'pattern_id', displayField: 'title',
      queryMode: 'local', anyMatch: true, forceSelection: true, itemId: 'pattern', emptyText: 'Choose a pattern…',
      tpl: '<tpl for="."><div class="x6-boundlist-item">{pattern_id:htmlEncode} — {title:htmlEncode}</div></tpl>',
      listeners: {select: function () { describe(combo.getValue()); }}
    });
    var paramsField = Ext.create('Ext.form.field.Text', {fieldLabel: 'Parameters', labelWidth: 70, width: 300, itemId: 'params', emptyText: 'e.g. client_ip=192.168.1.20'});
    var progress = Ext.create('Ext.ProgressBar', {width: 240, hidden: true, itemId: 'diagProgress'});

    function parseParams() {
      var out = {}, raw = (paramsField.getValue() || '').trim();
      if (!raw) { return out; }
      var bad = null;
      raw.split(/[\s,]+/).forEach(function (kv) {
        var m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(kv);
        if (m) { out[m[1]] = m[2]; } else { bad = kv; }
      });
      if (bad) { throw new Error('Parameter "' + bad + '" is not name=value. Write e.g. client_ip=192.168.1.20'); }
      return out;
    }

    /** The chosen pattern's steps and the parameters it asks for (shown in the field's hint). */
    var described = {};
    function describe(id) {
      if (!id) { return Promise.resolve(null); }
      if (described[id]) { return Promise.resolve(described[id]); }
      return app.call('getPattern', {id: id}).then(function (p) {
        p = (p && p.pattern) || p || {};
        described[id] = p;
        if (combo.getValue() === id) {
          var names = p.parameters || [];
          paramsField.setEmptyText(names.length ? names.map(function (n) { return n + '=…'; }).join(' ') : 'this pattern needs no parameters');
        }
        return p;
      });
    }

    /** Run the pattern's checks one by one (step by step: the progress says which). */
    function run() {
      var id = combo.getValue();
      if (!id) { C.toast('Choose a pattern first.'); return; }
      var params;
      try { params = parseParams(); } catch (e) { output.update('<div class="ocp-error">' + h(e.message) + '</div>'); return; }
      if (running) { return; }
      running = true;
      summary = '';
      steps.removeAll();
      progress.show();
      panel.down('#runBtn').disable();
      output.update('<div class="ocp-muted">Running…</div>');
      var t0 = Date.now(), results = [];
      function label(text) { progress.updateText(text + ' · ' + C.elapsed(t0)); }
      progress.wait({interval: 200, text: 'reading the pattern…'});
      // An empty params object is left out: OMV's PHP would pass it on as a JSON list ([]).
      var args = {pattern_id: id};
      if (Object.keys(params).length) { args.params = params; }
      describe(id).then(function (p) {
        var list = (p && p.diagnostics) || [];
        var n = list.length;
        return list.reduce(function (chain, d, i) {
          return chain.then(function () {
            label('running ' + n + ' check' + (n === 1 ? '' : 's') + ': ' + (i + 1) + ' of ' + n + ' (' + (d.name || d.probe) + ')…');
            return app.call('runDiagnostics', Ext.apply({step: i}, args)).then(function (r) {
              C.rows(r && (r.results || r.steps) ? {data: r.results || r.steps} : r).forEach(function (s) {
                results.push(s);
                steps.add(Ext.apply({passed: C.stepPassed(s)}, s));
              });
            });
          });
        }, Promise.resolve());
      }).then(function () {
        summary = C.stateSummary(results);
        output.update(summary + '<div class="ocp-muted">Select a step to see its output.</div>');
        if (results.length) { grid.getSelectionModel().select(0); }
      }).catch(function (e) {
        output.update((results.length ? C.stateSummary(results) : '') + C.errorHtml('Diagnostics did not run', e));
        app.handleError(e);
      }).then(function () {
        running = false;
        progress.reset();
        progress.hide();
        panel.down('#runBtn').enable();
      });
    }

    function showStep(rec) {
      var s = rec.getData();
      output.update(summary + '<h3>' + h(s.name) + ' ' + C.stateBadge(s) + '</h3>' +
        '<div class="copilot-as-stepread">' + C.readingHtml(s) + '</div>' +
        '<div><code>' + h((s.argv || []).join(' ')) + '</code></div>' +
        '<div class="ocp-muted">' + (s.returncode !== null && s.returncode !== undefined ? 'exit ' + h(s.returncode) + ' · ' : '') +
        h(s.duration_s) + ' s' + (s.timed_out ? ' · timed out' : '') +
        (s.matched_expected === false ? ' · output did not match the expected' : '') + '</div>' +
        (s.error ? '<div class="ocp-error">' + h(s.error) + '</div>' : '') +
        '<h4>Output</h4><pre class="ocp-pre">' + h(s.stdout || '(empty)') + '</pre>' +
        (s.stderr ? '<h4>Errors</h4><pre class="ocp-pre">' + h(s.stderr) + '</pre>' : ''));
    }

    var grid = Ext.create('Ext.grid.Panel', {
      region: 'center', store: steps, itemId: 'stepGrid', emptyText: 'No diagnostics run yet.',
      columns: [
        {text: 'Result', dataIndex: 'state', width: 150, cellWrap: true, renderer: function (v, m, r) { return C.stateBadge(r.getData(), true); }},
        {text: 'Step', dataIndex: 'name', width: 170, renderer: h},
        {text: 'Reading', dataIndex: 'reading', flex: 1, cellWrap: true, renderer: function (v) { return '<span class="copilot-as-stepread">' + h(v) + '</span>'; }},
        {text: 'Seconds', dataIndex: 'duration_s', width: 75, renderer: h}
      ],
      listeners: {selectionchange: function (sm, sel) { if (sel.length) { showStep(sel[0]); } }}
    });

    var panel = Ext.create('Ext.panel.Panel', {
      title: 'Diagnostics', itemId: 'diagnostics', layout: 'border',
      tbar: {enableOverflow: true, items: [combo, paramsField, {text: 'Run', itemId: 'runBtn', handler: run}, progress]},
      items: [grid, output]
    });

    var loaded = null;
    function loadPatterns() {
      loaded = loaded || app.call('getPatterns', {start: 0, limit: -1}).then(function (r) {
        patterns.loadData(C.rows(r).map(function (p) { return {pattern_id: p.pattern_id || p.id, title: p.title || p.pattern_id}; }));
      }).catch(function (e) { loaded = null; output.update(C.errorHtml('Patterns not available', e)); });
      return loaded;
    }
    panel.on('afterrender', loadPatterns, null, {single: true});
    panel.navigate = function (opts) {
      if (!opts || !opts.pattern_id) { return; }
      loadPatterns().then(function () {
        if (!patterns.findRecord('pattern_id', opts.pattern_id, 0, false, true, true)) {
          patterns.add({pattern_id: opts.pattern_id, title: opts.pattern_id});
        }
        combo.setValue(opts.pattern_id);
        describe(opts.pattern_id).catch(function () { /* run() reports it */ });
        if (opts.run) { run(); }
      });
    };
    return panel;
  };

  /* ---------------- Traces ---------------- */
  /** Decision points of a trace in one shape: {name, detail, seconds}. */
  C.tracePoints = function (t) {
    var raw = t.decision_points || t.steps || t.points || t.events || [];
    if (!Array.isArray(raw) && typeof raw === 'object') {
      raw = Object.keys(raw).map(function (k) { return Ext.apply({name: k}, raw[k]); });
    }
    return raw.map(function (p) {
      var sec = Number(p.duration_s);
      if (isNaN(sec)) { sec = Number(p.duration_ms) / 1000; }
      var detail = p.decision || p.summary || p.detail || p.result || p.outputs || '';
      if (detail && typeof detail === 'object') { detail = JSON.stringify(detail); }
      return {name: p.name || p.step || p.point || '?', detail: String(detail).slice(0, 300), seconds: isNaN(sec) ? 0 : sec,
        state: p.skipped ? 'skipped' : (p.error ? 'error' : ''), error: p.error || ''};
    });
  };

  C.ms = function (sec) {
    var ms = sec * 1000;
    return (ms < 10 ? ms.toFixed(1) : ms.toFixed(0)) + ' ms';
  };

  /** A flowchart of the decision points (and LLM fallback hops) when the trace carries no Mermaid text. */
  C.traceMermaid = function (points, hops) {
    if (!points.length) { return ''; }
    function label(x) { return String(x === null || x === undefined ? '' : x).replace(/_/g, ' ').replace(/[^A-Za-z0-9 .,:\/=-]/g, ' ').slice(0, 60); }
    var lines = ['flowchart TD'], prev = null;
    points.forEach(function (p, i) {
      var node = 'P' + i;
      lines.push('  ' + node + '["' + label(p.name) + ' (' + label(p.state || C.ms(p.seconds)) + ')"]');
      if (prev) { lines.push('  ' + prev + ' --> ' + node); }
      prev = node;
      if (p.name === 'llm_request') {
        (hops || []).forEach(function (h, j) {
          var hn = 'H' + j;
          lines.push('  ' + hn + '{"' + label(h.provider) + ': ' + label(h.result) + '"}');
          lines.push('  ' + prev + ' --> ' + hn);
          prev = hn;
        });
      }
    });
    return lines.join('\n');
  };

  C.createTraces = function (app) {
    var store = Ext.create('Ext.data.Store', {fields: ['id', 'query', 'started_at', 'duration_s', 'mode', 'context']});
    var detail = detailPanel('traceDetail', 'Select a trace to see its decision points.');

    function load() {
      grid.setLoading(true);
      return app.call('getTraces', {start: 0, limit: 200}).then(function (r) {
        store.loadData(C.rows(r).map(function (t) {
          return {id: t.id || t.trace_id, query: t.query, started_at: t.started_at || t.created_at || t.ts, duration_s: t.duration_s || t.total_s || (t.duration_ms !== undefined && t.duration_ms !== null ? Math.round(t.duration_ms) / 1000 : null), mode: t.mode, context: t.context};
        }));
      }).catch(function (e) { detail.update(C.errorHtml('Traces not available', e)); app.handleError(e); })
        .then(function () { grid.setLoading(false); });
    }

    function show(id) {
      detail.update('<div class="ocp-muted">Loading…</div>');
      app.call('getTrace', {id: id}).then(function (t) {
        t = (t && t.trace) || t || {};
        var points = C.tracePoints(t);
        var total = points.reduce(function (acc, p) { return acc + p.seconds; }, 0) || 1;
        detail.update('<h3>' + h(t.query || id) + '</h3><div>' + (t.mode ? C.badge(t.mode) : '') + ' ' + (t.context ? C.badge('Specialist: ' + t.context) : '') +
          ' <span class="ocp-muted">' + C.time(t.started_at || t.created_at) + '</span></div>' +
          '<h4>Decision points (' + points.length + ')</h4>' + (points.length ? '<table class="ocp-table ocp-timeline"><tbody>' + points.map(function (p, i) {
            return '<tr><td>' + (i + 1) + '</td><td><b>' + h(p.name) + '</b>' + (p.state ? ' ' + C.badge(p.state, p.state === 'error' ? 'ocp-bad' : '') : '') +
              '<div class="ocp-muted">' + h(p.error || p.detail) + '</div></td>' +
              '<td style="width:22%"><div class="ocp-bar ocp-bar-small"><div class="ocp-bar-fill ocp-info-fill" style="width:' + Math.max(1, Math.round(p.seconds / total * 100)) + '%"></div></div></td>' +
              '<td>' + C.ms(p.seconds) + '</td></tr>';
          }).join('') + '</tbody></table>' : '<div class="ocp-muted">No decision points recorded.</div>') +
          '<h4>Flowchart</h4><div class="ocp-mermaid"><div class="ocp-muted">Rendering…</div></div>');
        var box = detail.body.dom.querySelector('.ocp-mermaid');
        var text = t.mermaid || t.flowchart || C.traceMermaid(points, t.hops);
        if (!text) { box.innerHTML = '<div class="ocp-muted">No flowchart recorded.</div>'; return null; }
        return C.renderMermaid(box, text).catch(function (e) {
          box.innerHTML = '<div class="ocp-error">The flowchart could not be drawn (' + h(e && e.message || e) + '); its Mermaid source:</div><pre class="ocp-pre">' + h(text) + '</pre>';
        }).then(function () { detail.updateLayout(); });
      }).catch(function (e) { detail.update(C.errorHtml('Trace not available', e)); });
    }

    var grid = Ext.create('Ext.grid.Panel', {
      region: 'center', store: store, itemId: 'traceGrid', emptyText: 'No traces yet: ask the Assistant a question.',
      columns: [
        {text: 'When', dataIndex: 'started_at', width: 150, renderer: C.time},
        {text: 'Question', dataIndex: 'query', flex: 1, renderer: h},
        {text: 'Mode', dataIndex: 'mode', width: 80, renderer: h},
        {text: 'Seconds', dataIndex: 'duration_s', width: 70, renderer: h}
      ],
      tbar: [{text: 'Refresh', handler: function () { load(); }}],
      listeners: {selectionchange: function (sm, sel) { if (sel.length) { show(sel[0].get('id')); } }}
    });
    var panel = Ext.create('Ext.panel.Panel', {title: 'Traces', itemId: 'traces', layout: 'border', items: [grid, detail]});
    panel.on('activate', load);
    panel.reload = load;
    panel.navigate = function (opts) {
      if (!opts || !opts.id) { return; }
      load().then(function () {
        var rec = store.findRecord('id', opts.id, 0, false, true, true);
        if (rec) { grid.getSelectionModel().select(rec); } else { show(opts.id); }
      });
    };
    return panel;
  };

  /* ---------------- Alerts ---------------- */
  var SEVERITY_RANK = {critical: 3, warning: 2, info: 1};
  /** Worst first, then the most recent: what needs attention now is on top. */
  C.alertOrder = function (x, y) {
    var d = (SEVERITY_RANK[y.severity] || 0) - (SEVERITY_RANK[x.severity] || 0);
    return d || (Number(y.last_seen) || 0) - (Number(x.last_seen) || 0);
  };

  /** An alert's evidence as [name, value] rows: the daemon's ``evidence`` (docs/contracts.md "Alerts": disk,
   * processes, last change, last note, the pattern's first check) when it has one, else the alert's details. */
  C.alertEvidence = function (a) {
    var rows = [], ev = a.evidence && typeof a.evidence === 'object' ? a.evidence : null;
    function add(k, v) { if (v !== null && v !== undefined && v !== '') { rows.push([k, String(v)]); } }
    function procs(list, what) {
      return (list || []).slice(0, 3).map(function (p) {
        return p.name + ' (' + p.pid + ', ' + (what === 'cpu' ? (p.cpu_percent === null || p.cpu_percent === undefined ? '?' : p.cpu_percent) + '% CPU' : C.bytes(p.rss)) + ')';
      }).join(', ');
    }
    if (!ev) {
      var d = a.details && typeof a.details === 'object' ? a.details : {};
      Object.keys(d).forEach(function (k) { add(k.replace(/_/g, ' '), typeof d[k] === 'object' && d[k] !== null ? JSON.stringify(d[k]) : d[k]); });
      return rows;
    }
    var disk = ev.disk;
    if (disk) {
      add('disk', [disk.device, disk.model].filter(Boolean).join(' · '));
      add('SMART verdict', disk.verdict);
      add('temperature', disk.temperature_c !== null && disk.temperature_c !== undefined ? disk.temperature_c + ' °C' : null);
      add('reallocated sectors', disk.reallocated);
      add('power-on hours', disk.power_on_hours);
      if (disk.asleep) { add('state', 'asleep (not woken to read it)'); }
      Object.keys(disk.trend || {}).forEach(function (k) {
        var t = disk.trend[k];
        add(k + ' trend', t.first + ' → ' + t.last + ' since ' + C.time(t.since));
      });
    }
    if (ev.processes) {
      add('top CPU', procs(ev.processes.top_cpu, 'cpu'));
      add('top memory', procs(ev.processes.top_rss, 'rss'));
    }
    if (ev.last_change) {
      add('last configuration change', C.time(ev.last_change.taken_at) + ': ' + (ev.last_change.changes || []).join('; '));
    }
    if (ev.last_note) { add('last note', C.time(ev.last_note.created_at) + ': ' + ev.last_note.text); }
    if (ev.pattern && ev.pattern.first_check) {
      add('first check', ev.pattern.first_check.name + (ev.pattern.first_check.command ? ': ' + ev.pattern.first_check.command : ''));
    }
    return rows;
  };

  /** The question "Ask Co-Pilot about this" pre-fills: the alert, its evidence, what the admin wants to know. */
  C.alertQuestion = function (a) {
    var ev = C.alertEvidence(a).map(function (r) { return r[0] + ': ' + r[1]; }).join('; ');
    return 'Alert "' + (a.title || a.rule) + '" (' + (a.severity || 'unknown') + (a.subject ? ', ' + a.subject : '') + ', ' +
      (a.state || 'firing') + ' since ' + C.time(a.first_seen) + ')' + (a.message ? ': ' + a.message : '') + '.' +
      (ev ? ' Evidence: ' + ev + '.' : '') + ' What does this mean for my NAS and what should I do?';
  };

  C.createAlerts = function (app) {
    var store = Ext.create('Ext.data.Store', {fields: ['id', 'severity', 'state', 'title', 'subject', 'message', 'first_seen', 'last_seen', 'count', 'rule',
      'details', 'evidence', 'pattern_id', 'resolution']});
    var stateCombo = Ext.create('Ext.form.field.ComboBox', {fieldLabel: 'State', labelWidth: 40, width: 170, editable: false, itemId: 'stateFilter',
      store: [['', 'All'], ['open', 'Open'], ['firing', 'Firing'], ['acknowledged', 'Acknowledged'], ['resolved', 'Resolved']], value: '',
      listeners: {select: function () { load(); }}});
    var sevCombo = Ext.create('Ext.form.field.ComboBox', {fieldLabel: 'Severity', labelWidth: 55, width: 170, editable: false, itemId: 'sevFilter',
      store: [['', 'All'], ['critical', 'Critical'], ['warning', 'Warning'], ['info', 'Info']], value: '',
      listeners: {select: function () { load(); }}});
    var detail = Ext.create('Ext.panel.Panel', {dock: 'right', width: '42%', minWidth: 260, scrollable: 'y', bodyPadding: 10, itemId: 'alertDetail',
      cls: 'ocp-detail copilot-as-alertdetail', split: true, resizable: {handles: 'w'},
      html: '<div class="ocp-muted">Select an alert to see its evidence, ask Co-Pilot about it, or open its pattern.</div>'});
    var current = null;

    function load() {
      var params = {start: 0, limit: 1000};
      if (stateCombo.getValue()) { params.state = stateCombo.getValue(); }
      if (sevCombo.getValue()) { params.severity = sevCombo.getValue(); }
      grid.setLoading(true);
      return app.call('getAlerts', params).then(function (r) {
        store.loadData(C.rows(r).slice().sort(C.alertOrder));
        grid.down('#alertCount').setText((r && r.total !== undefined ? r.total : store.getCount()) + ' alerts');
      }).catch(function (e) {
        grid.down('#alertCount').setText('');
        C.gridMessage(grid, C.errorHtml('Alerts not available', e));
        app.handleError(e);
      }).then(function () { grid.setLoading(false); });
    }

    /** Acknowledge every selected alert that is still firing (one call each; OMV's datamodel wants a string id). */
    function acknowledge() {
      var sel = grid.getSelection().filter(function (r) { return r.get('state') === 'firing'; });
      if (!grid.getSelection().length) { C.toast('Select one or more alerts first.'); return; }
      if (!sel.length) { C.toast('The selected alerts are already acknowledged or resolved.'); return; }
      var failed = [];
      Promise.all(sel.map(function (rec) {
        return app.call('acknowledgeAlert', {id: String(rec.get('id'))}).catch(function (e) { failed.push(rec.get('title') + ': ' + C.explain(e)); });
      })).then(function () {
        var done = sel.length - failed.length;
        C.toast(done + (done === 1 ? ' alert' : ' alerts') + ' acknowledged.' + (failed.length ? ' Not acknowledged: ' + failed.join('; ') : ''));
        load();
      });
    }

    function duration(s) {
    return s < 120 ? Math.round(s) + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : s < 172800 ? (s / 3600).toFixed(1) + ' h' : (s / 86400).toFixed(1) + ' days';
  }

  /** A verification's outcome in words (verifyFix's answer, or an alert's recorded ``resolution``). */
  C.resolutionHtml = function (r) {
    if (!r || !r.outcome) { return ''; }
    var words = {fixed: 'Verified fixed', still_present: 'Still present', could_not_verify: 'Could not verify'}[r.outcome] || r.outcome;
    var cls = r.outcome === 'fixed' ? 'ocp-text-ok' : 'ocp-text-warn';
    var ttr = r.ttr_s ? ' · time to resolution ' + duration(r.ttr_s) : '';
    var readings = (r.readings || []).map(function (x) {
      var said = x.matched_expected === true ? 'healthy' : x.matched_expected === false ? 'not healthy' : x.ok ? 'ran' : 'did not run';
      return '<li>' + h(x.name || x.probe || '') + ' — ' + h(said) + (x.error ? ': ' + h(x.error) : x.excerpt ? ': ' + h(x.excerpt) : '') + '</li>';
    }).join('');
    return '<div class="' + cls + '"><b>' + h(words) + '</b>' + (r.verified_at ? ' ' + C.time(r.verified_at) : '') + h(ttr) + '</div>' +
      (r.reason ? '<div class="ocp-muted">' + h(r.reason) + '</div>' : '') + (readings ? '<ul class="ocp-list">' + readings + '</ul>' : '');
  };

  /** The alert's pattern: one the daemon names (evidence.pattern_id), else the knowledge base's best match for it. */
    function findPattern(a) {
      var named = a.evidence && a.evidence.pattern;
      if (named && named.id) { return Promise.resolve({pattern_id: named.id, title: named.title || named.id}); }
      return app.call('search', {q: String((a.title || a.rule) + ' ' + (a.message || '')).slice(0, 500), limit: 1}).then(function (r) {
        var m = C.rows(r)[0];
        return m ? {pattern_id: m.pattern_id, title: m.title || m.pattern_id} : null;
      });
    }

    /** "I fixed it": the daemon collects afresh, re-runs the pattern's checks and the rule, and keeps the outcome. */
    function verify(a, button) {
      var box = detail.body.dom.querySelector('.copilot-as-verdict');
      button.classList.add('x6-item-disabled');
      box.innerHTML = '<div class="ocp-muted">Verifying: collecting afresh and re-running the checks…</div>';
      app.call('verifyFix', {id: String(a.id)}).then(function (r) {
        if (current === a) { box.innerHTML = C.resolutionHtml(r); }
        load();
      }).catch(function (e) {
        if (current === a) { box.innerHTML = C.errorHtml('Could not verify', e); }
      }).then(function () { button.classList.remove('x6-item-disabled'); });
    }

    function show(rec) {
      var a = rec.getData();
      current = a;
      var ev = C.alertEvidence(a);
      detail.update('<h3>' + h(a.title || a.rule) + '</h3>' +
        '<div>' + C.severityBadge(a.severity) + ' ' + C.badge(a.state) + (a.subject ? ' ' + C.badge(a.subject) : '') + '</div>' +
        (a.message ? '<p>' + h(a.message) + '</p>' : '') +
        '<div class="ocp-muted">First seen ' + C.time(a.first_seen) + ' · last seen ' + C.time(a.last_seen) + (a.count ? ' · ' + h(a.count) + '×' : '') + '</div>' +
        '<div class="copilot-as-actions"><a href="#" class="ocp-btn copilot-as-ask" data-ask="1">Ask Co-Pilot about this</a>' +
        '<span class="copilot-as-pattern ocp-muted">Looking for its pattern…</span>' +
        (a.state !== 'resolved' ? '<a href="#" class="ocp-btn copilot-as-verify" data-verify="1" title="Collect afresh, re-run the pattern\'s ' +
          'read-only checks and this alert\'s rule, and record the outcome">I fixed it: verify</a>' : '') + '</div>' +
        '<div class="copilot-as-verdict">' + C.resolutionHtml(a.resolution) + '</div>' +
        '<h4>Evidence</h4>' + (ev.length ? '<table class="ocp-table copilot-as-evidence"><tbody>' + ev.map(function (r) {
          return '<tr><th>' + h(r[0]) + '</th><td>' + h(r[1]) + '</td></tr>';
        }).join('') + '</tbody></table>' : '<div class="ocp-muted">No further evidence recorded.</div>'));
      findPattern(a).then(function (m) {
        if (current !== a) { return; }
        var box = detail.body.dom.querySelector('.copilot-as-pattern');
        if (!box) { return; }
        box.className = 'copilot-as-pattern';
        box.innerHTML = m ? '<a href="#" class="ocp-btn" data-pattern="' + h(m.pattern_id) + '">Pattern: ' + h(m.title) + '</a>'
          : '<span class="ocp-muted">No pattern in the knowledge base matches this alert.</span>';
      }).catch(function () {
        var box = detail.body && detail.body.dom.querySelector('.copilot-as-pattern');
        if (box) { box.textContent = 'Its pattern could not be looked up.'; }
      });
    }

    var grid = Ext.create('Ext.grid.Panel', {
      title: 'Alerts', itemId: 'alerts', store: store, emptyText: 'No alerts match the filter.',
      selModel: {selType: 'checkboxmodel', mode: 'MULTI', checkOnly: false},
      columns: [
        {text: 'Severity', dataIndex: 'severity', width: 90, renderer: C.severityBadge},
        {text: 'State', dataIndex: 'state', width: 105, renderer: h},
        {text: 'Alert', dataIndex: 'title', flex: 1, minWidth: 120, cellWrap: true, renderer: function (v, m, r) { return h(v || r.get('rule')) + '<div class="ocp-muted">' + h(r.get('message') || '') + '</div>'; }},
        {text: 'Subject', dataIndex: 'subject', width: 120, cellWrap: true, renderer: h, itemId: 'subjectCol'},
        {text: 'Last seen', dataIndex: 'last_seen', width: 150, renderer: C.time, itemId: 'lastSeenCol'}
      ],
      dockedItems: [detail],
      tbar: {enableOverflow: true, items: [stateCombo, sevCombo, {text: 'Refresh', handler: function () { load(); }}, '-',
        {text: 'Acknowledge', itemId: 'ackBtn', tooltip: 'Acknowledge every selected alert', handler: acknowledge}, '->', {xtype: 'tbtext', itemId: 'alertCount', text: ''}]},
      listeners: {
        selectionchange: function (sm, sel) {
          var open = sel.filter(function (r) { return r.get('state') === 'firing'; }).length;
          grid.down('#ackBtn').setText(sel.length > 1 ? 'Acknowledge ' + open + ' selected' : 'Acknowledge');
        },
        itemclick: function (g, rec) { show(rec); },
        itemkeydown: function (g, rec, item, i, e) { if (e.getKey() === e.ENTER || e.getKey() === e.SPACE) { show(rec); } }
      }
    });
    grid.on('afterrender', function () {
      detail.body.on('click', function (ev, el) {
        ev.preventDefault();
        if (el.dataset.verify && current) { verify(current, el); }
        else if (el.dataset.ask && current) { app.show('assistant', {ask: C.alertQuestion(current)}); }
        else if (el.dataset.pattern) { app.show('knowledge', {pattern_id: el.dataset.pattern}); }
      }, null, {delegate: 'a'});
    }, null, {single: true});
    grid.on('activate', load);
    // Narrow (a tablet): subject and time move to the detail only, so the alert's text keeps its room.
    grid.on('resize', function (g, width) {
      var narrow = width < 1100;
      g.down('#subjectCol').setHidden(narrow);
      g.down('#lastSeenCol').setHidden(narrow);
      detail.setWidth(narrow ? Math.max(260, Math.round(width * 0.45)) : Math.round(width * 0.42));
    });
    grid.navigate = function (opts) {
      if (!opts || !opts.id) { return; }
      load().then(function () {
        var rec = store.findRecord('id', opts.id, 0, false, true, true);
        if (rec) { grid.getSelectionModel().select(rec); show(rec); }
      });
    };
    return grid;
  };

  /* ---------------- History ---------------- */
  /** JSON -> sorted "path = value" lines (under ``prefix``), readable one setting per line. */
  C.flatten = function (obj, prefix) {
    var out = [];
    (function walk(v, path) {
      if (v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length : Object.keys(v).length)) {
        (Array.isArray(v) ? v.map(function (x, i) { return i; }) : Object.keys(v).sort()).forEach(function (k) {
          walk(v[k], path + (Array.isArray(v) ? '[' + k + ']' : (path ? '.' : '') + k));
        });
      } else {
        out.push(path + ' = ' + JSON.stringify(v));
      }
    }(obj, prefix || ''));
    return out;
  };

  /** Drift entries from the daemon ({path, change: added|removed|changed, old, new}) as side-by-side rows. */
  C.driftRows = function (changes) {
    var kinds = {added: 'add', removed: 'del', changed: 'mod'};
    function side(path, value, present) { return present ? C.flatten(value, path).join('\n') : undefined; }
    return (changes || []).map(function (c) {
      return {left: side(c.path, c.old, c.change !== 'added'), right: side(c.path, c.new, c.change !== 'removed'), kind: kinds[c.change] || 'mod'};
    });
  };

  C.diffHtml = function (leftTitle, rightTitle, rows) {
    var changed = rows.filter(function (r) { return r.kind !== 'same'; }).length;
    return '<div class="' + (changed ? 'ocp-text-warn' : 'ocp-text-ok') + '">' + (changed ? changed + (changed === 1 ? ' change' : ' changes') : 'No changes') + '</div>' +
      '<table class="ocp-table ocp-diff"><thead><tr><th>' + h(leftTitle) + '</th><th>' + h(rightTitle) + '</th></tr></thead><tbody>' +
      rows.map(function (r) {
        return '<tr class="ocp-diff-' + r.kind + '"><td><code>' + h(r.left === undefined ? '' : r.left) + '</code></td><td><code>' + h(r.right === undefined ? '' : r.right) + '</code></td></tr>';
      }).join('') + '</tbody></table>';
  };

  C.createHistory = function (app) {
    var issues = Ext.create('Ext.data.Store', {fields: ['id', 'title', 'severity', 'state', 'first_seen', 'resolved_at', 'rule', 'subject']});
    var notes = Ext.create('Ext.data.Store', {fields: ['id', 'text', 'created_at', 'alert_id']});
    var snaps = Ext.create('Ext.data.Store', {fields: ['id', 'taken_at', 'summary', 'raw']});
    var diffPanel = Ext.create('Ext.panel.Panel', {region: 'east', split: true, width: '60%', scrollable: true, bodyPadding: 8, itemId: 'diffView', cls: 'ocp-detail',
      html: '<div class="ocp-muted">Select two configuration snapshots (Ctrl+click) to compare them side by side; one is compared with the one before it.</div>'});

    function load() {
      app.call('getHistory', {start: 0, limit: 200}).then(function (r) { issues.loadData(C.rows(r)); })
        .catch(function (e) { C.gridMessage(panel.down('#issueGrid'), C.errorHtml('Issues not available', e)); });
      app.call('getNotes', {start: 0, limit: 200}).then(function (r) { notes.loadData(C.rows(r)); })
        .catch(function (e) { C.gridMessage(panel.down('#noteGrid'), C.errorHtml('Notes not available', e)); });
      app.call('getSnapshots', {start: 0, limit: 100}).then(function (r) {
        snaps.loadData(C.rows(r).map(function (x) {
          return {id: x.id, taken_at: x.taken_at, summary: [x.reason, x.hash && String(x.hash).slice(0, 12)].filter(Boolean).join(' · '), raw: x};
        }));
      }).catch(function (e) { C.gridMessage(panel.down('#snapGrid'), C.errorHtml('Configuration snapshots not available', e)); });
    }

    function title(rec) {
      var raw = rec.get('raw') || {};
      return C.time(rec.get('taken_at')) + (raw.reason ? ' (' + raw.reason + ')' : '');
    }

    /** The daemon's drift between two snapshots (matched by uuid/name, not by line), side by side. */
    var shown = 0;  // the latest request wins: an answer to an earlier click is dropped
    function render(text, promise, html) {
      var mine = ++shown;
      diffPanel.update('<div class="ocp-muted">' + text + '</div>');
      promise.then(function (r) { if (mine === shown) { diffPanel.update(html(r)); } })
        .catch(function (e) { if (mine === shown) { diffPanel.update(C.errorHtml('Could not load the configuration snapshots', e)); } });
    }

    function compare(older, newer) {
      render('Comparing…', app.call('getSnapshotDiff', {from: older.get('id'), to: newer.get('id')}), function (r) {
        return C.diffHtml(title(older), title(newer), C.driftRows(r.changes));
      });
    }

    /** The oldest snapshot has nothing before it: show what it recorded. */
    function show(rec) {
      render('Loading…', app.call('getSnapshot', {id: String(rec.get('id'))}), function (x) {
        return '<div class="ocp-muted">The first snapshot recorded: nothing to compare it with.</div>' +
          '<table class="ocp-table ocp-diff"><thead><tr><th>' + h(title(rec)) + '</th></tr></thead><tbody>' +
          C.flatten((x && x.data) || {}).map(function (l) { return '<tr class="ocp-diff-same"><td><code>' + h(l) + '</code></td></tr>'; }).join('') +
          '</tbody></table>';
      });
    }

    function addNote() {
      var f = panel.down('#noteText'), t = (f.getValue() || '').trim();
      if (!t) { C.toast('Write a note first.'); return; }
      app.call('addNote', {text: t}).then(function () { f.setValue(''); C.toast('Note saved.'); load(); })
        .catch(function (e) { C.toast('Note not saved: ' + C.explain(e)); });
    }

    var panel = Ext.create('Ext.tab.Panel', {
      title: 'History', itemId: 'history',
      items: [
        {xtype: 'grid', title: 'Issues', itemId: 'issueGrid', store: issues, emptyText: 'No issues recorded.', columns: [
          {text: 'Severity', dataIndex: 'severity', width: 90, renderer: C.severityBadge},
          {text: 'Issue', dataIndex: 'title', flex: 1, renderer: function (v, m, r) { return h(v || r.get('rule')); }},
          {text: 'Subject', dataIndex: 'subject', width: 140, renderer: h},
          {text: 'State', dataIndex: 'state', width: 100, renderer: h},
          {text: 'First seen', dataIndex: 'first_seen', width: 150, renderer: C.time},
          {text: 'Resolved', dataIndex: 'resolved_at', width: 150, renderer: C.time}]},
        {xtype: 'grid', title: 'Notes', itemId: 'noteGrid', store: notes, emptyText: 'No notes yet.', columns: [
          {text: 'When', dataIndex: 'created_at', width: 150, renderer: C.time},
          {text: 'Note', dataIndex: 'text', flex: 1, renderer: h}],
          tbar: [{xtype: 'textfield', itemId: 'noteText', width: 420, emptyText: 'Write a note (what you changed, why)…', maxLength: 2000, enforceMaxLength: true,
            listeners: {specialkey: function (f, e) { if (e.getKey() === e.ENTER) { addNote(); } }}},
            {text: 'Add note', handler: addNote}]},
        {xtype: 'panel', title: 'Configuration', itemId: 'configTab', layout: 'border', items: [
          {xtype: 'grid', region: 'center', itemId: 'snapGrid', store: snaps, emptyText: 'No configuration snapshots yet.',
            selModel: {mode: 'MULTI'},
            columns: [{text: 'Taken', dataIndex: 'taken_at', width: 150, renderer: C.time}, {text: 'Snapshot', dataIndex: 'summary', flex: 1, renderer: h}],
            listeners: {selectionchange: function (sm, sel) {
              var byTime = function (x, y) { return (x.get('taken_at') || 0) - (y.get('taken_at') || 0); };
              if (sel.length >= 2) {
                var pair = sel.slice(0, 2).sort(byTime);
                compare(pair[0], pair[1]);
              } else if (sel.length === 1) {
                var before = snaps.getAt(snaps.indexOf(sel[0]) + 1);  // newest first: the next row is the one before
                if (before) { compare(before, sel[0]); } else { show(sel[0]); }
              }
            }}},
          diffPanel]}
      ]
    });
    panel.on('activate', load);
    return panel;
  };
}());
